"""People's use cases: who I am, adding people, disabling and enabling accounts (signing in is
`accounts.people.signin`)."""

from __future__ import annotations

import asyncio
import logging
import uuid

from accounts.checks import check, record
from accounts.context import Accounts
from accounts.errors import AccessDenied, Invalid, NotFound
from accounts.people import passwords
from accounts.people.keys import SigningKeys
from accounts.people.models import Person, actor_of
from accounts.people.signin import VERIFIER_LEEWAY
from accounts.people.store import UsernameTaken
from accounts.people.throttle import Throttle
from shared.contracts.accounts import Actor, PersonDisabled, PersonEnabled, person_event
from shared.events import utc_now
from shared.policy import ChildAccess, Decision, Principal, PrincipalKind

log = logging.getLogger(__name__)


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
    throttle: Throttle,
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
    """Add a family member (any practitioner) or a practitioner of the manager's own agency; audited.

    Only someone allowed to make this account learns that its user name is taken (the refusal comes first,
    and says the same whether the name exists or not); that answer is audited and limited per person, so
    it cannot become a way to list who has an account."""
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
    try:
        await ctx.people.insert_person(person)
    except UsernameTaken:
        taken = Decision(allowed=False, reason="the user name is taken", relationship=decision.relationship)
        await record(
            ctx, principal=principal, action="manage_people", child_id=None, decision=taken, detail=asked
        )
        await throttle.conflict(person_id=principal.subject)
        raise
    await record(
        ctx,
        principal=principal,
        action="manage_people",
        child_id=None,
        decision=decision,
        detail=f"added {kind} account {person.person_id} ({username})",
    )
    return person


def _status_refusal(principal: Principal, person: Person) -> str | None:
    """Why `principal` may not disable or enable `person`, if they may not: managers answer for the staff of
    their own agency and for family accounts; auditors, agency systems and managers of other agencies are
    council IT's."""
    if principal.kind != "manager":
        return "only a manager disables or enables accounts"
    if person.person_id == principal.subject:
        return "nobody disables or enables their own account"
    if person.kind == "family":
        return None
    if person.kind in ("auditor", "agency_system"):
        return "auditors and agency systems are managed by council IT"
    if person.agency != principal.agency:
        return "managers disable and enable staff of their own agency only"
    return None


async def set_disabled(
    *,
    ctx: Accounts,
    keys: SigningKeys,
    throttle: Throttle,
    principal: Principal,
    person_id: str,
    disabled: bool,
    reason: str,
) -> Person:
    """Disable an account (its tokens stop working in every service within seconds) or enable it again;
    refusals are audited, and the change is recorded by its `person.*` event."""
    verb = "disable" if disabled else "enable"
    asked = f"{verb} account {person_id}: {reason}"
    decision = await check(
        ctx, principal, "manage_people", None, child_id=None, record_allowed=False, detail=asked
    )
    refusal = "only a manager disables or enables accounts" if principal.kind != "manager" else None
    person = await ctx.people.person(person_id) if refusal is None else None
    if refusal is None and person is not None:
        refusal = _status_refusal(principal, person)
    if refusal is not None or person is None:
        refused = Decision(
            allowed=False, reason=refusal or "there is no such account", relationship=decision.relationship
        )
        await record(
            ctx, principal=principal, action="manage_people", child_id=None, decision=refused, detail=asked
        )
        if person is None and refusal is None:
            raise NotFound("there is no such account")
        raise AccessDenied(refused)
    now = utc_now()
    common = {
        "person_id": person_id,
        "actor": actor_of(principal),
        "at": now,
        "tokens_until": now + keys.issuer.ttl + VERIFIER_LEEWAY,
        "reason": reason,
    }
    event = PersonDisabled(**common) if disabled else PersonEnabled(**common)
    await ctx.people.set_status(
        person_id,
        disabled=disabled,
        sessions_after=now if disabled else None,
        topic=ctx.topics.accounts_events,
        event=person_event(event),
    )
    ctx.notify_outbox()
    if not disabled:
        await throttle.forget_failures(person.username)
    return person.model_copy(update={"disabled": disabled})
