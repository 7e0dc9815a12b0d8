"""Accounts use cases: load → policy → domain → save (state and events together) → relay publishes.

Every use case checks the shared policy first. Reads and refusals are recorded on `audit.events` before
anything is returned; accepted changes are recorded by the account events they make (the audit log reads
`accounts.events` too), so a change and its record cannot part.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from accounts import auditlog, domain
from accounts.domain import Child, ChildDetails, Conflict, DomainError, Invalid, NotFound, Person, actor_of
from accounts.passwords import hash_password
from accounts.store import AccountsStore, AuditEntry, AuditStore, PendingMatch, outbox_entry
from accounts.views import ChildHeader, header
from shared.access import fold
from shared.audit import AuditTrail
from shared.contracts.accounts import AccountEvent, Actor, account_event
from shared.events import utc_now
from shared.identity import nhs_number_problem, normalise_nhs_number
from shared.logs import correlation_id
from shared.policy import (
    Action,
    ChildAccess,
    Decision,
    FamilyRelationship,
    JoinRequest,
    Principal,
    PrincipalKind,
    View,
    decide,
    search_view,
)
from shared.topics import DEFAULT, Topics

_SAVE_ATTEMPTS = 20


class AccessDenied(DomainError):
    """The policy said no; `decision.reason` says why."""

    def __init__(self, decision: Decision) -> None:
        super().__init__(decision.reason)
        self.decision = decision


class AuditUnavailable(DomainError):
    """The access could not be recorded, so it is not served (every view is logged, BRIEF §3)."""


class AlreadyRegistered(Conflict):
    def __init__(self, child_id: str) -> None:
        super().__init__("this child already has an account: ask to join the team instead")
        self.child_id = child_id


@dataclass
class Accounts:
    """What the use cases need, built once in `create_app`."""

    store: AccountsStore
    audit_store: AuditStore
    trail: AuditTrail
    notify_outbox: Callable[[], None]
    break_glass_for: timedelta
    topics: Topics = DEFAULT


@dataclass(frozen=True)
class Registration:
    status: Literal["created", "pending_match"]
    child: Child | None = None
    match: PendingMatch | None = None


@dataclass(frozen=True)
class SearchResult:
    child: Child
    header: ChildHeader


@dataclass(frozen=True)
class ChildRequests:
    child_id: str
    display_name: str
    requests: tuple[JoinRequest, ...]


# --- checking access ---------------------------------------------------------------------------------------


async def _check(
    ctx: Accounts,
    principal: Principal,
    action: Action,
    access: ChildAccess | None,
    *,
    child_id: str | None,
    record_allowed: bool = True,
    purpose: str | None = None,
    detail: str | None = None,
) -> Decision:
    """The policy's decision; refusals (and, if asked, permissions) go to the audit log before anything else."""
    decision = decide(principal, action, access, now=utc_now())
    if record_allowed or not decision.allowed:
        await _record(
            ctx,
            principal=principal,
            action=action,
            child_id=child_id,
            decision=decision,
            purpose=purpose,
            detail=detail,
        )
    if not decision.allowed:
        raise AccessDenied(decision)
    return decision


async def _record(
    ctx: Accounts,
    *,
    principal: Principal,
    action: str,
    child_id: str | None,
    decision: Decision,
    purpose: str | None = None,
    detail: str | None = None,
) -> None:
    try:
        await ctx.trail.record(
            principal=principal,
            action=action,
            child_id=child_id,
            decision=decision,
            purpose=purpose,
            detail=detail,
            correlation_id=correlation_id.get(),
        )
    except Exception as err:  # the broker is away: fail closed
        raise AuditUnavailable(
            "this access cannot be recorded right now, so it is not served; try again"
        ) from err


async def _load(ctx: Accounts, principal: Principal, action: Action, child_id: str) -> Child:
    child = await ctx.store.child(child_id)
    if child is None:
        await _check(ctx, principal, action, None, child_id=child_id, detail="no such child")
        raise NotFound("there is no account for this child")  # pragma: no cover - _check raised already
    return child


async def _person_of(ctx: Accounts, principal: Principal) -> Person:
    """The person record of the signed-in principal; a council IdP's user may have none yet."""
    person = await ctx.store.person(principal.subject)
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


async def _change(
    ctx: Accounts,
    principal: Principal,
    action: Action,
    child_id: str,
    build: Callable[[ChildAccess, Actor, datetime], list[AccountEvent]],
) -> tuple[Child, list[AccountEvent]]:
    """Apply a team change: check, make its events, commit them; a change committed first by someone else
    means reading the account again and deciding again."""
    for attempt in range(_SAVE_ATTEMPTS):
        if attempt:
            await asyncio.sleep(random.uniform(0, 0.01 * attempt))  # spread out writers racing for one child
        child = await _load(ctx, principal, action, child_id)
        await _check(ctx, principal, action, child.access, child_id=child_id, record_allowed=False)
        events = build(child.access, actor_of(principal), utc_now())
        access = fold(child.access, events)
        assert access is not None
        cid = correlation_id.get()
        outbox = [
            outbox_entry(ctx.topics.accounts_events, account_event(e, correlation_id=cid)) for e in events
        ]
        saved = await ctx.store.commit(child_id=child_id, before=child, after=access, events=outbox)
        if saved is not None:
            ctx.notify_outbox()
            return saved, events
    raise Conflict("the account changed several times while saving; try again")


# --- children ----------------------------------------------------------------------------------------------


def _valid_details(details: ChildDetails) -> ChildDetails:
    if details.nhs_number is None:
        if not details.postcode:
            raise Invalid("without an NHS number, give the postcode so the child can be matched")
        return details
    problem = nhs_number_problem(details.nhs_number)
    if problem:
        raise Invalid(problem)
    return details.model_copy(update={"nhs_number": normalise_nhs_number(details.nhs_number)})


async def _create(
    ctx: Accounts,
    *,
    child_id: str,
    details: ChildDetails,
    lead: Person,
    actor: Actor,
    shielded: bool,
    sensitive_service: bool,
) -> Child:
    now = utc_now()
    registered = domain.register(
        child_id=child_id,
        details=details,
        lead=lead,
        actor=actor,
        shielded=shielded,
        sensitive_service=sensitive_service,
        now=now,
    )
    access = fold(None, [registered])
    assert access is not None
    envelope = account_event(registered, correlation_id=correlation_id.get())
    child = await ctx.store.commit(
        child_id=child_id,
        before=None,
        after=access,
        events=[outbox_entry(ctx.topics.accounts_events, envelope)],
        details=details,
        created_at=now,
    )
    if child is None:
        if details.nhs_number:
            raise AlreadyRegistered(child_id)
        raise Conflict("this account was opened already")
    ctx.notify_outbox()
    return child


async def register_child(
    *,
    ctx: Accounts,
    principal: Principal,
    details: ChildDetails,
    shielded: bool,
    sensitive_service: bool,
    child_id: str | None = None,
) -> Registration:
    """Open a child's account with the practitioner as lead — unless the child may already have one."""
    await _check(ctx, principal, "register_child", None, child_id=None, record_allowed=False)
    details = _valid_details(details)
    outcome = domain.match_child(details, await ctx.store.candidates(details))
    if outcome.kind == "match":
        raise AlreadyRegistered(outcome.child_ids[0])
    if outcome.kind == "uncertain":
        match = PendingMatch(
            match_id=f"m-{uuid.uuid4().hex}",
            details=details,
            shielded=shielded,
            sensitive_service=sensitive_service,
            requested_by=principal.subject,
            candidates=outcome.child_ids,
            created_at=utc_now(),
        )
        await ctx.store.insert_match(match)
        return Registration(status="pending_match", match=match)
    child = await _create(
        ctx,
        child_id=child_id or details.nhs_number or f"c-{uuid.uuid4().hex}",
        details=details,
        lead=await _person_of(ctx, principal),
        actor=actor_of(principal),
        shielded=shielded,
        sensitive_service=sensitive_service,
    )
    return Registration(status="created", child=child)


async def open_matches(
    *, ctx: Accounts, principal: Principal
) -> list[tuple[PendingMatch, list[ChildHeader]]]:
    """Registrations waiting for a manager to say whether they are a child who already has an account; the
    candidates show identity only."""
    await _check(ctx, principal, "resolve_match", None, child_id=None, detail="list open matches")
    found = []
    for match in await ctx.store.open_matches():
        candidates = [c for c in [await ctx.store.child(i) for i in match.candidates] if c is not None]
        headers = [
            _header(
                c, decide(principal, "view_header", c.access, now=utc_now()), principal, view="identity_only"
            )
            for c in candidates
        ]
        found.append((match, headers))
    return found


async def resolve_match(
    *, ctx: Accounts, principal: Principal, match_id: str, same_child_id: str | None
) -> PendingMatch:
    """A manager decides: the same child as `same_child_id` (no new account), or a new child (opened now)."""
    await _check(ctx, principal, "resolve_match", None, child_id=same_child_id, detail=f"match {match_id}")
    match = await ctx.store.match(match_id)
    if match is None:
        raise NotFound("there is no such match")
    if match.status != "pending":
        raise Conflict("this match was resolved already")
    if same_child_id is not None:
        if same_child_id not in match.candidates:
            raise Invalid("that child is not one of this match's candidates")
        if not await ctx.store.resolve_match(
            match_id, status="same_child", resolved_by=principal.subject, child_id=same_child_id
        ):
            raise Conflict("this match was resolved already")
        return match.model_copy(update={"status": "same_child", "child_id": same_child_id})
    requester = await ctx.store.person(match.requested_by)
    if requester is None:
        raise NotFound("the practitioner who asked for this account no longer exists")
    # The same id on a retry, so a retried resolution never opens two accounts.
    child_id = match.details.nhs_number or f"c-{match.match_id.removeprefix('m-')}"
    try:
        await _create(
            ctx,
            child_id=child_id,
            details=match.details,
            lead=requester,
            actor=actor_of(principal),
            shielded=match.shielded,
            sensitive_service=match.sensitive_service,
        )
    except Conflict:
        if await ctx.store.child(child_id) is None:
            raise
    await ctx.store.resolve_match(
        match_id, status="new_child", resolved_by=principal.subject, child_id=child_id
    )
    return match.model_copy(update={"status": "new_child", "child_id": child_id})


async def child_header(*, ctx: Accounts, principal: Principal, child_id: str) -> ChildHeader:
    """The top of the child's page: who the child is and the team, as this viewer may see them."""
    child = await _load(ctx, principal, "view_header", child_id)
    decision = await _check(ctx, principal, "view_header", child.access, child_id=child_id)
    return _header(child, decision, principal)


def _header(
    child: Child, decision: Decision, principal: Principal, *, view: View | None = None
) -> ChildHeader:
    manages = decide(principal, "approve_join", child.access, now=utc_now()).allowed
    return header(
        child,
        decision,
        viewer_id=principal.subject,
        view=view or decision.view or "identity_only",
        now=utc_now(),
        manages=manages,
    )


async def my_children(*, ctx: Accounts, principal: Principal) -> list[ChildHeader]:
    """The children whose team (or family) the signed-in person is in."""
    found = []
    for child in await ctx.store.children_of(principal.subject):
        decision = decide(principal, "view_header", child.access, now=utc_now())
        if decision.allowed:
            found.append((child, decision))
    await asyncio.gather(
        *(
            _record(
                ctx,
                principal=principal,
                action="list_my_children",
                child_id=child.child_id,
                decision=decision,
            )
            for child, decision in found
        )
    )
    return [_header(c, d, principal, view="identity_only" if d.view is None else d.view) for c, d in found]


async def search(
    *,
    ctx: Accounts,
    principal: Principal,
    nhs_number: str | None,
    given_name: str | None,
    family_name: str | None,
    date_of_birth: date | None,
) -> list[ChildHeader]:
    """Find a child by NHS number, or by full name and date of birth; never a list to browse."""
    how = "by NHS number" if nhs_number else "by name and date of birth"
    await _check(ctx, principal, "search", None, child_id=None, record_allowed=False)
    if nhs_number:
        problem = nhs_number_problem(nhs_number)
        if problem:
            raise Invalid(problem)
        one = await ctx.store.by_nhs_number(normalise_nhs_number(nhs_number))
        children = [one] if one else []
    elif given_name and family_name and date_of_birth:
        children = await ctx.store.by_name_and_birth(
            given_name=given_name, family_name=family_name, date_of_birth=date_of_birth
        )
    else:
        raise Invalid("search by nhs_number, or by given_name, family_name and date_of_birth together")
    results = []
    for child in children:
        decision = decide(principal, "view_header", child.access, now=utc_now())
        view = search_view(decision, child.access)
        results.append((child, decision, view))
    search_decision = decide(principal, "search", None, now=utc_now())
    if not results:
        await _record(
            ctx,
            principal=principal,
            action="search",
            child_id=None,
            decision=search_decision,
            detail=f"{how}: none",
        )
    for child, _, view in results:
        await _record(
            ctx,
            principal=principal,
            action="search",
            child_id=child.child_id,
            decision=search_decision,
            detail=f"{how}: shown {view}",
        )
    return [_header(child, decision, principal, view=view) for child, decision, view in results]


async def change_flags(
    *,
    ctx: Accounts,
    principal: Principal,
    child_id: str,
    shielded: bool,
    sensitive_service: bool,
    reason: str,
) -> Child:
    """Set or clear the shielded and sensitive-service flags (lead professional or manager)."""
    child, _ = await _change(
        ctx,
        principal,
        "manage_team",
        child_id,
        lambda access, actor, now: domain.change_flags(
            access,
            shielded=shielded,
            sensitive_service=sensitive_service,
            reason=reason,
            actor=actor,
            now=now,
        ),
    )
    return child


# --- the team ----------------------------------------------------------------------------------------------


async def request_join(*, ctx: Accounts, principal: Principal, child_id: str, reason: str) -> JoinRequest:
    """Ask to join the child's team, saying why; the lead professional or a manager decides."""
    person = await _person_of(ctx, principal)
    request_id = f"r-{uuid.uuid4().hex}"
    child, _ = await _change(
        ctx,
        principal,
        "request_join",
        child_id,
        lambda access, actor, now: domain.request_join(
            access, person=person, reason=reason, request_id=request_id, actor=actor, now=now
        ),
    )
    request = child.access.request(request_id)
    assert request is not None
    return request


async def join_requests(*, ctx: Accounts, principal: Principal, child_id: str) -> list[JoinRequest]:
    """The requests waiting for a decision on this child's team."""
    child = await _load(ctx, principal, "approve_join", child_id)
    await _check(ctx, principal, "approve_join", child.access, child_id=child_id, detail="list join requests")
    return list(child.access.pending)


async def requests_to_decide(*, ctx: Accounts, principal: Principal) -> list[ChildRequests]:
    """Every child's waiting requests that the signed-in lead professional or manager may decide."""
    found = []
    for child in await ctx.store.awaiting_decision(person_id=principal.subject, agency=principal.agency):
        if decide(principal, "approve_join", child.access, now=utc_now()).allowed:
            found.append(ChildRequests(child.child_id, child.access.display_name, child.access.pending))
    return found


async def approve_join(
    *, ctx: Accounts, principal: Principal, child_id: str, request_id: str, reason: str | None
) -> Child:
    """Let a practitioner into the child's team."""
    child, _ = await _change(
        ctx,
        principal,
        "approve_join",
        child_id,
        lambda access, actor, now: domain.approve_join(
            access, request_id=request_id, reason=reason, actor=actor, now=now
        ),
    )
    return child


async def decline_join(
    *, ctx: Accounts, principal: Principal, child_id: str, request_id: str, reason: str
) -> Child:
    """Refuse a request to join, with the reason (a decision not to share, recorded)."""
    child, _ = await _change(
        ctx,
        principal,
        "approve_join",
        child_id,
        lambda access, actor, now: domain.decline_join(
            access, request_id=request_id, reason=reason, actor=actor, now=now
        ),
    )
    return child


async def leave(*, ctx: Accounts, principal: Principal, child_id: str) -> Child:
    """Leave the child's team: access ends at once."""
    child, _ = await _change(
        ctx,
        principal,
        "leave",
        child_id,
        lambda access, actor, now: domain.leave(access, person_id=principal.subject, actor=actor, now=now),
    )
    return child


async def remove_member(
    *, ctx: Accounts, principal: Principal, child_id: str, person_id: str, reason: str
) -> Child:
    """Take someone off the child's team, with the reason."""
    child, _ = await _change(
        ctx,
        principal,
        "manage_team",
        child_id,
        lambda access, actor, now: domain.remove_member(
            access, person_id=person_id, reason=reason, actor=actor, now=now
        ),
    )
    return child


async def hand_over_lead(
    *, ctx: Accounts, principal: Principal, child_id: str, person_id: str, reason: str | None
) -> Child:
    """Make another team member the lead professional."""
    to = await ctx.store.person(person_id)
    child = await _load(ctx, principal, "manage_team", child_id)
    await _check(ctx, principal, "manage_team", child.access, child_id=child_id, record_allowed=False)
    if to is None:
        member = child.access.member(person_id)
        if member is None:
            raise NotFound("that person is not in this child's team")
        to = Person(
            person_id=member.person_id,
            username=member.person_id,
            name=member.name,
            kind=member.kind,
            agency=member.agency,
            role=member.role,
            contact=member.contact,
            sensitive_service=member.sensitive_service,
        )
    new_lead = to
    child, _ = await _change(
        ctx,
        principal,
        "manage_team",
        child_id,
        lambda access, actor, now: domain.hand_over_lead(
            access, to=new_lead, reason=reason, actor=actor, now=now
        ),
    )
    return child


async def link_family(
    *, ctx: Accounts, principal: Principal, child_id: str, person_id: str, relationship: FamilyRelationship
) -> Child:
    """Link a parent, carer or the child themself to the account: they see the family view."""
    person = await ctx.store.person(person_id)
    if person is None:
        await _load(ctx, principal, "manage_team", child_id)
        raise NotFound("there is no such person")
    child, _ = await _change(
        ctx,
        principal,
        "manage_team",
        child_id,
        lambda access, actor, now: domain.link_family(
            access, person=person, relationship=relationship, actor=actor, now=now
        ),
    )
    return child


async def unlink_family(
    *, ctx: Accounts, principal: Principal, child_id: str, person_id: str, reason: str
) -> Child:
    """End a family member's access to the account, with the reason."""
    child, _ = await _change(
        ctx,
        principal,
        "manage_team",
        child_id,
        lambda access, actor, now: domain.unlink_family(
            access, person_id=person_id, reason=reason, actor=actor, now=now
        ),
    )
    return child


async def break_glass(*, ctx: Accounts, principal: Principal, child_id: str, reason: str) -> Child:
    """Emergency read access without membership: recorded with the reason, time-limited, the lead alerted."""
    person = await _person_of(ctx, principal)
    grant_id = f"g-{uuid.uuid4().hex}"
    child, _ = await _change(
        ctx,
        principal,
        "break_glass",
        child_id,
        lambda access, actor, now: domain.break_glass(
            access,
            person=person,
            reason=reason,
            grant_id=grant_id,
            duration=ctx.break_glass_for,
            actor=actor,
            now=now,
        ),
    )
    return child


# --- audit -------------------------------------------------------------------------------------------------


async def viewers(*, ctx: Accounts, principal: Principal, child_id: str) -> list[auditlog.Viewer]:
    """Who has looked at the child's record, and when."""
    child = await _load(ctx, principal, "read_viewers", child_id)
    decision = await _check(ctx, principal, "read_viewers", child.access, child_id=child_id)
    return await auditlog.viewers(store=ctx.audit_store, access=child.access, decision=decision)


async def audit_log(
    *,
    ctx: Accounts,
    principal: Principal,
    child_id: str | None,
    actor_id: str | None,
    action: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
) -> list[AuditEntry]:
    """The audit log, filtered by child, person, time and action (auditors only; their queries are logged)."""
    detail = f"actor={actor_id} action={action} since={since} until={until}"
    await _check(ctx, principal, "read_audit", None, child_id=child_id, detail=detail[:500])
    return await auditlog.query(
        store=ctx.audit_store,
        child_id=child_id,
        actor_id=actor_id,
        action=action,
        since=since,
        until=until,
        limit=limit,
    )


# --- people ------------------------------------------------------------------------------------------------


async def me(*, ctx: Accounts, principal: Principal) -> Person:
    """The signed-in person's own record."""
    return await _person_of(ctx, principal)


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
    """Add a family member (any practitioner) or a member of staff of the manager's own agency."""
    decision = await _check(ctx, principal, "manage_people", None, child_id=None, record_allowed=False)
    if kind in ("auditor", "agency_system"):
        raise AccessDenied(
            Decision(
                allowed=False,
                reason="auditors and agency systems are set up by council IT",
                relationship=decision.relationship,
            )
        )
    if kind != "family":
        if principal.kind != "manager":
            raise AccessDenied(
                Decision(
                    allowed=False,
                    reason="only a manager adds practitioners",
                    relationship=decision.relationship,
                )
            )
        if agency != principal.agency:
            raise AccessDenied(
                Decision(
                    allowed=False,
                    reason="managers add staff of their own agency only",
                    relationship=decision.relationship,
                )
            )
    elif agency is not None or sensitive_service:
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
        password_hash=await asyncio.to_thread(hash_password, password) if password else None,
    )
    await ctx.store.insert_person(person)
    return person
