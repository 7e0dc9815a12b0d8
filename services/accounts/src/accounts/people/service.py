"""People's use cases: who I am, adding people, and signing in with a password."""

from __future__ import annotations

import asyncio
import logging
import uuid

from accounts.checks import check, record
from accounts.context import Accounts
from accounts.errors import AccessDenied, Invalid, Unauthenticated
from accounts.people import passwords
from accounts.people.keys import SigningKeys
from accounts.people.models import Person, actor_of
from shared.auth import IssuedToken
from shared.contracts.accounts import Actor
from shared.policy import ChildAccess, Decision, Principal, PrincipalKind

log = logging.getLogger(__name__)


class SignInFailed(Unauthenticated):
    """Wrong user name or password (which one is not said)."""


async def actor_for(ctx: Accounts, principal: Principal, access: ChildAccess | None = None) -> Actor:
    """The principal as the author of a change, flagged when they work for a sensitive service: from the
    child's team when they are in it, else from their person record."""
    member = access.member(principal.subject) if access is not None else None
    if member is not None:
        return actor_of(principal, sensitive_service=member.sensitive_service)
    return actor_of(principal, sensitive_service=(await person_of(ctx, principal)).sensitive_service)


async def person_of(ctx: Accounts, principal: Principal) -> Person:
    """The person record of the signed-in principal; a council IdP's user may have none yet."""
    person = await ctx.people.person(principal.subject)
    if person is not None:
        return person
    return Person(
        person_id=principal.subject,
        username=principal.subject,
        name=principal.name,
        kind=principal.kind,
        agency=principal.agency,
        role=principal.role,
    )


async def me(*, ctx: Accounts, principal: Principal) -> Person:
    """The signed-in person's own record."""
    return await person_of(ctx, principal)


def _refusal(principal: Principal, kind: PrincipalKind, agency: str | None) -> str | None:
    """Why `principal` may not add a `kind` person of `agency`, if they may not.

    Whoever makes an account may know its password, so no one makes an account that could approve their own
    access: managers (who approve joining) come from council IT, as auditors and agency systems do.
    """
    if kind in ("auditor", "agency_system", "manager"):
        return "managers, auditors and agency systems are set up by council IT"
    if kind == "family":
        return None
    if principal.kind != "manager":
        return "only a manager adds practitioners"
    if agency != principal.agency:
        return "managers add staff of their own agency only"
    return None


async def create_person(
    *,
    ctx: Accounts,
    principal: Principal,
    username: str,
    name: str,
    kind: PrincipalKind,
    agency: str | None,
    role: str | None,
    contact: str | None,
    sensitive_service: bool,
    password: str | None,
) -> Person:
    """Add a family member (any practitioner) or a practitioner of the manager's own agency; audited."""
    asked = f"add a {kind} account {username!r}" + (f" of {agency}" if agency else "")
    decision = await check(
        ctx, principal, "manage_people", None, child_id=None, record_allowed=False, detail=asked
    )
    refusal = _refusal(principal, kind, agency)
    if refusal is not None:
        refused = Decision(allowed=False, reason=refusal, relationship=decision.relationship)
        await record(
            ctx, principal=principal, action="manage_people", child_id=None, decision=refused, detail=asked
        )
        raise AccessDenied(refused)
    if kind == "family" and (agency is not None or sensitive_service):
        raise Invalid("a family member has no agency")
    person = Person(
        person_id=f"p-{uuid.uuid4().hex}",
        username=username,
        name=name,
        kind=kind,
        agency=agency,
        role=role,
        contact=contact,
        sensitive_service=sensitive_service,
        password_hash=await asyncio.to_thread(passwords.hash_password, password) if password else None,
        created_by=principal.subject,
    )
    await ctx.people.insert_person(person)
    await record(
        ctx,
        principal=principal,
        action="manage_people",
        child_id=None,
        decision=decision,
        detail=f"added {kind} account {person.person_id} ({username})",
    )
    return person


async def sign_in(*, ctx: Accounts, keys: SigningKeys, username: str, password: str) -> IssuedToken:
    """A token for the person with this user name and password; an outdated hash of the password is replaced
    by an argon2id one."""
    person = await ctx.people.person_by_username(username)
    stored = person.password_hash if person else None
    # Hashing is deliberately slow: keep it off the event loop.
    valid, updated = await asyncio.to_thread(passwords.check, password, stored)
    if not valid or person is None or stored is None:
        log.info("sign-in refused", extra={"fields": {"username": username[:100]}})
        raise SignInFailed("the user name or password is wrong")
    if updated is not None:
        await ctx.people.replace_password_hash(person.person_id, old=stored, new=updated)
    return keys.issuer.issue(person.principal())
