"""Team use cases: asking to join, deciding, leaving, removing, handing over the lead, family links and
break-glass. Each is a change to the child's account committed through `accounts.children.service.change`,
which checks the shared policy first."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass

from accounts.checks import check, load_child, record
from accounts.children.models import Child
from accounts.children.service import change
from accounts.context import Accounts
from accounts.errors import AccessDenied, Conflict, NotFound
from accounts.people.models import Person
from accounts.people.service import person_of
from accounts.teams import models
from shared.contracts.accounts import BreakGlassPurpose
from shared.events import utc_now
from shared.policy import (
    Action,
    BreakGlassGrant,
    Decision,
    FamilyRelationship,
    JoinRequest,
    Principal,
    decide,
)


@dataclass(frozen=True)
class ChildRequests:
    child_id: str
    display_name: str
    requests: tuple[JoinRequest, ...]


async def request_join(
    *,
    ctx: Accounts,
    principal: Principal,
    child_id: str,
    reason: str,
    confirmed_by: Principal | None = None,
) -> JoinRequest:
    """Ask to join the child's team, saying why; the lead professional or a manager decides.

    `confirmed_by`: a manager responsible for the child confirmed that `principal`'s registration was this
    child, so the request is made on the manager's check (`ask_to_join` is the way in by id)."""
    person = await person_of(ctx, principal)
    request_id = f"r-{uuid.uuid4().hex}"
    checked: Principal = confirmed_by or principal
    action: Action = "approve_join" if confirmed_by else "request_join"
    child = await change(
        ctx,
        checked,
        action,
        child_id,
        lambda access, actor, now: models.request_join(
            access, person=person, reason=reason, request_id=request_id, actor=actor, now=now
        ),
    )
    request = child.access.request(request_id)
    assert request is not None
    return request


async def ask_to_join(
    *, ctx: Accounts, principal: Principal, child_id: str, reason: str
) -> JoinRequest | None:
    """A practitioner asks to join, by the child's id. The request, or `None` when the asker may not learn
    whether the child has an account: a shielded child they have no relationship with takes the request (its
    lead decides, as for any other) and a child with no account takes nothing, and both answer `None`
    (rule 2: child ids are NHS numbers, which anyone may know). Asked again while waiting, the same."""
    if principal.kind not in ("practitioner", "manager"):
        return await request_join(ctx=ctx, principal=principal, child_id=child_id, reason=reason)
    child = await ctx.store.child(child_id)
    if child is not None and not _unknown_to(principal, child):
        return await request_join(ctx=ctx, principal=principal, child_id=child_id, reason=reason)
    if child is None:
        nobody = Decision(allowed=False, reason="no account with this id", relationship="none")
        detail = "answered as a shielded child's request is"
        await record(
            ctx, principal=principal, action="request_join", child_id=child_id, decision=nobody, detail=detail
        )
        return None
    with contextlib.suppress(AccessDenied, Conflict):  # already asked: refused on the record, answered alike
        await request_join(ctx=ctx, principal=principal, child_id=child_id, reason=reason)
    return None


def _unknown_to(principal: Principal, child: Child) -> bool:
    """A shielded child whose existence `principal` may not learn: nobody finds them by search either."""
    return child.access.shielded and not decide(principal, "view_header", child.access, now=utc_now()).allowed


async def join_requests(*, ctx: Accounts, principal: Principal, child_id: str) -> list[JoinRequest]:
    """The requests waiting for a decision on this child's team."""
    child = await load_child(ctx, principal, "approve_join", child_id)
    await check(ctx, principal, "approve_join", child.access, child_id=child_id, detail="list join requests")
    return list(child.access.pending)


async def requests_to_decide(*, ctx: Accounts, principal: Principal) -> list[ChildRequests]:
    """Every child's waiting requests that the signed-in lead professional or manager may decide (not their
    own); each child listed is recorded as a read."""
    found = []
    for child in await ctx.store.awaiting_decision(person_id=principal.subject, agency=principal.agency):
        decision = decide(principal, "approve_join", child.access, now=utc_now())
        requests = tuple(r for r in child.access.pending if r.person_id != principal.subject)
        if decision.allowed and requests:
            found.append((ChildRequests(child.child_id, child.access.display_name, requests), decision))
    await asyncio.gather(
        *(
            record(
                ctx,
                principal=principal,
                action="list_join_requests",
                child_id=c.child_id,
                decision=decision,
                detail=f"{len(c.requests)} waiting",
            )
            for c, decision in found
        )
    )
    return [c for c, _ in found]


async def _refuse(ctx: Accounts, principal: Principal, action: Action, child: Child, reason: str) -> None:
    """Record and raise a refusal the policy cannot make (it knows relationships, not who made an account)."""
    allowed = decide(principal, action, child.access, now=utc_now())
    if not allowed.allowed:
        return  # the policy refuses it anyway, with its own reason, when the change is tried
    decision = Decision(allowed=False, reason=reason, relationship=allowed.relationship)
    await record(ctx, principal=principal, action=action, child_id=child.child_id, decision=decision)
    raise AccessDenied(decision)


async def _not_their_own(ctx: Accounts, principal: Principal, child_id: str, request_id: str) -> None:
    """Nobody approves their own request, nor one from an account they made (they may hold its password)."""
    child = await load_child(ctx, principal, "approve_join", child_id)
    request = child.access.request(request_id)
    if request is None:
        return  # the domain answers: no longer waiting
    if request.person_id == principal.subject:
        await _refuse(
            ctx, principal, "approve_join", child, "nobody approves their own request to join a team"
        )
    requester = await ctx.people.person(request.person_id)
    if requester is not None and requester.created_by == principal.subject:
        await _refuse(
            ctx,
            principal,
            "approve_join",
            child,
            "you made this person's account: someone else in the team must approve their request",
        )


async def approve_join(
    *, ctx: Accounts, principal: Principal, child_id: str, request_id: str, reason: str | None
) -> Child:
    """Let a practitioner into the child's team; someone other than the requester (and their account's maker)
    decides."""
    await _not_their_own(ctx, principal, child_id, request_id)
    return await change(
        ctx,
        principal,
        "approve_join",
        child_id,
        lambda access, actor, now: models.approve_join(
            access, request_id=request_id, reason=reason, actor=actor, now=now
        ),
    )


async def decline_join(
    *, ctx: Accounts, principal: Principal, child_id: str, request_id: str, reason: str
) -> Child:
    """Refuse a request to join, with the reason (a decision not to share, recorded)."""
    return await change(
        ctx,
        principal,
        "approve_join",
        child_id,
        lambda access, actor, now: models.decline_join(
            access, request_id=request_id, reason=reason, actor=actor, now=now
        ),
    )


async def leave(*, ctx: Accounts, principal: Principal, child_id: str) -> Child:
    """Leave the child's team: access ends at once."""
    return await change(
        ctx,
        principal,
        "leave",
        child_id,
        lambda access, actor, now: models.leave(access, person_id=principal.subject, actor=actor, now=now),
    )


async def remove_member(
    *, ctx: Accounts, principal: Principal, child_id: str, person_id: str, reason: str
) -> Child:
    """Take someone off the child's team, with the reason."""
    return await change(
        ctx,
        principal,
        "manage_team",
        child_id,
        lambda access, actor, now: models.remove_member(
            access, person_id=person_id, reason=reason, actor=actor, now=now
        ),
    )


async def _new_lead(ctx: Accounts, principal: Principal, child_id: str, person_id: str) -> Person:
    """The person to hand the lead to: their record, or (an IdP user with none) their team membership."""
    to = await ctx.people.person(person_id)
    child = await load_child(ctx, principal, "manage_team", child_id)
    await check(ctx, principal, "manage_team", child.access, child_id=child_id, record_allowed=False)
    if to is not None:
        return to
    member = child.access.member(person_id)
    if member is None:
        raise NotFound("that person is not in this child's team")
    return Person(
        person_id=member.person_id,
        username=member.person_id,
        name=member.name,
        kind=member.kind,
        agency=member.agency,
        role=member.role,
        contact=member.contact,
        sensitive_service=member.sensitive_service,
    )


async def hand_over_lead(
    *, ctx: Accounts, principal: Principal, child_id: str, person_id: str, reason: str | None
) -> Child:
    """Make another team member the lead professional."""
    new_lead = await _new_lead(ctx, principal, child_id, person_id)
    return await change(
        ctx,
        principal,
        "manage_team",
        child_id,
        lambda access, actor, now: models.hand_over_lead(
            access, to=new_lead, reason=reason, actor=actor, now=now
        ),
    )


async def link_family(
    *,
    ctx: Accounts,
    principal: Principal,
    child_id: str,
    person_id: str,
    relationship: FamilyRelationship,
    views_shown_to_family: bool = False,
) -> Child:
    """Link a parent, carer or the child themself to the account: they see the family view. Whoever made the
    family account does not link it (they may hold its password)."""
    person = await ctx.people.person(person_id)
    if person is None:
        await load_child(ctx, principal, "manage_team", child_id)
        raise NotFound("there is no such person")
    if person.created_by == principal.subject:
        await _refuse(
            ctx,
            principal,
            "manage_team",
            await load_child(ctx, principal, "manage_team", child_id),
            "you made this family account: someone else in the team must link it to the child",
        )
    return await change(
        ctx,
        principal,
        "manage_team",
        child_id,
        lambda access, actor, now: models.link_family(
            access,
            person=person,
            relationship=relationship,
            actor=actor,
            now=now,
            views_shown_to_family=views_shown_to_family,
        ),
    )


async def unlink_family(
    *, ctx: Accounts, principal: Principal, child_id: str, person_id: str, reason: str
) -> Child:
    """End a family member's access to the account, with the reason."""
    return await change(
        ctx,
        principal,
        "manage_team",
        child_id,
        lambda access, actor, now: models.unlink_family(
            access, person_id=person_id, reason=reason, actor=actor, now=now
        ),
    )


async def break_glass(
    *, ctx: Accounts, principal: Principal, child_id: str, purpose: BreakGlassPurpose, reason: str
) -> BreakGlassGrant:
    """Emergency read access without membership: recorded with its purpose and reason, short, never renewed
    silently; on the child's timeline for the lead."""
    person = await person_of(ctx, principal)
    grant_id = f"g-{uuid.uuid4().hex}"
    child = await change(
        ctx,
        principal,
        "break_glass",
        child_id,
        lambda access, actor, now: models.break_glass(
            access,
            person=person,
            purpose=purpose,
            reason=reason,
            grant_id=grant_id,
            duration=ctx.break_glass_for,
            actor=actor,
            now=now,
        ),
    )
    grant = child.access.active_grant(principal.subject, utc_now())
    assert grant is not None
    return grant
