"""Who is in a child's team, and how they join and leave: the pure rules, each change returning its events.

No I/O, no clock: times and ids come in as arguments. Each change returns the events it makes, numbered from
the child's current `seq`; `accounts.children.service.change` folds them into the snapshot and commits both.
Every decision to share or not to share is recorded with its reason (`AccessDecisionRecorded`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from accounts.errors import Conflict, Invalid, NotFound
from accounts.people.models import Person
from shared.contracts.accounts import (
    AccessDecisionRecorded,
    AccountEvent,
    Actor,
    BreakGlassPurpose,
    BreakGlassUsed,
    FamilyLinked,
    FamilyUnlinked,
    JoinApproved,
    JoinDeclined,
    JoinRequested,
    LeadHandedOver,
    MemberLeft,
    MemberRemoved,
    PersonRef,
)
from shared.policy import ChildAccess, FamilyRelationship


def _decision(
    access: ChildAccess,
    *,
    seq: int,
    actor: Actor,
    now: datetime,
    person_id: str,
    shared: bool,
    what: str,
    why: str,
) -> AccessDecisionRecorded:
    return AccessDecisionRecorded(
        child_id=access.child_id,
        seq=seq,
        actor=actor,
        at=now,
        decision_id=f"{access.child_id}:{seq}",
        shared=shared,
        person_id=person_id,
        decision=what,
        reason=why,
    )


def request_join(
    access: ChildAccess, *, person: Person, reason: str, request_id: str, actor: Actor, now: datetime
) -> list[AccountEvent]:
    if access.member(person.person_id):
        raise Conflict("you are already in this child's team")
    if access.request_of(person.person_id):
        raise Conflict("you have already asked to join this child's team")
    return [
        JoinRequested(
            child_id=access.child_id,
            seq=access.seq + 1,
            actor=actor,
            at=now,
            request_id=request_id,
            person=person.ref(),
            reason=reason,
        )
    ]


def approve_join(
    access: ChildAccess, *, request_id: str, reason: str | None, actor: Actor, now: datetime
) -> list[AccountEvent]:
    request = access.request(request_id)
    if request is None:
        raise Conflict("that request is no longer waiting for a decision")
    person = PersonRef(
        person_id=request.person_id,
        name=request.name,
        kind=request.kind,
        agency=request.agency,
        role=request.role,
        contact=request.contact,
        sensitive_service=request.sensitive_service,
    )
    why = reason or f"joined to work with the child: {request.reason}"
    return [
        JoinApproved(
            child_id=access.child_id,
            seq=access.seq + 1,
            actor=actor,
            at=now,
            request_id=request_id,
            person=person,
            reason=reason,
        ),
        _decision(
            access,
            seq=access.seq + 2,
            actor=actor,
            now=now,
            person_id=request.person_id,
            shared=True,
            what="join_approved",
            why=why,
        ),
    ]


def decline_join(
    access: ChildAccess, *, request_id: str, reason: str, actor: Actor, now: datetime
) -> list[AccountEvent]:
    request = access.request(request_id)
    if request is None:
        raise Conflict("that request is no longer waiting for a decision")
    return [
        JoinDeclined(
            child_id=access.child_id,
            seq=access.seq + 1,
            actor=actor,
            at=now,
            request_id=request_id,
            person_id=request.person_id,
            reason=reason,
        ),
        _decision(
            access,
            seq=access.seq + 2,
            actor=actor,
            now=now,
            person_id=request.person_id,
            shared=False,
            what="join_declined",
            why=reason,
        ),
    ]


def leave(access: ChildAccess, *, person_id: str, actor: Actor, now: datetime) -> list[AccountEvent]:
    if access.lead_id == person_id:
        raise Conflict("the lead professional must hand over the lead before leaving")
    if not access.member(person_id):
        raise Conflict("you are not in this child's team")
    return [
        MemberLeft(child_id=access.child_id, seq=access.seq + 1, actor=actor, at=now, person_id=person_id)
    ]


def remove_member(
    access: ChildAccess, *, person_id: str, reason: str, actor: Actor, now: datetime
) -> list[AccountEvent]:
    if access.lead_id == person_id:
        raise Conflict("hand the lead to someone else before removing the lead professional")
    if not access.member(person_id):
        raise NotFound("that person is not in this child's team")
    return [
        MemberRemoved(
            child_id=access.child_id,
            seq=access.seq + 1,
            actor=actor,
            at=now,
            person_id=person_id,
            reason=reason,
        ),
        _decision(
            access,
            seq=access.seq + 2,
            actor=actor,
            now=now,
            person_id=person_id,
            shared=False,
            what="member_removed",
            why=reason,
        ),
    ]


def hand_over_lead(
    access: ChildAccess, *, to: Person, reason: str | None, actor: Actor, now: datetime
) -> list[AccountEvent]:
    if to.kind not in ("practitioner", "manager"):
        raise Invalid("the lead professional must be a practitioner or a manager")
    if access.lead_id == to.person_id:
        raise Conflict(f"{to.name} is already the lead professional")
    if not access.member(to.person_id):
        raise Conflict(f"{to.name} must be in the child's team before taking the lead")
    return [
        LeadHandedOver(
            child_id=access.child_id,
            seq=access.seq + 1,
            actor=actor,
            at=now,
            from_person_id=access.lead_id or "",
            to=to.ref(),
            reason=reason,
        )
    ]


def link_family(
    access: ChildAccess,
    *,
    person: Person,
    relationship: FamilyRelationship,
    actor: Actor,
    now: datetime,
    views_shown_to_family: bool = False,
) -> list[AccountEvent]:
    if person.kind != "family":
        raise Invalid("only a family member's account can be linked as family")
    if access.family_link(person.person_id):
        raise Conflict(f"{person.name} is already linked to this child")
    return [
        FamilyLinked(
            child_id=access.child_id,
            seq=access.seq + 1,
            actor=actor,
            at=now,
            person_id=person.person_id,
            name=person.name,
            relationship=relationship,
            views_shown_to_family=views_shown_to_family,
        ),
        _decision(
            access,
            seq=access.seq + 2,
            actor=actor,
            now=now,
            person_id=person.person_id,
            shared=True,
            what="family_linked",
            why=f"linked as {relationship}: sees the family view",
        ),
    ]


def unlink_family(
    access: ChildAccess, *, person_id: str, reason: str, actor: Actor, now: datetime
) -> list[AccountEvent]:
    if not access.family_link(person_id):
        raise NotFound("that person is not linked to this child")
    return [
        FamilyUnlinked(
            child_id=access.child_id,
            seq=access.seq + 1,
            actor=actor,
            at=now,
            person_id=person_id,
            reason=reason,
        ),
        _decision(
            access,
            seq=access.seq + 2,
            actor=actor,
            now=now,
            person_id=person_id,
            shared=False,
            what="family_unlinked",
            why=reason,
        ),
    ]


def break_glass(
    access: ChildAccess,
    *,
    person: Person,
    purpose: BreakGlassPurpose,
    reason: str,
    grant_id: str,
    duration: timedelta,
    actor: Actor,
    now: datetime,
) -> list[AccountEvent]:
    """A short read-only grant. Never a silent renewal: while one is live the policy refuses another, and a
    later one must give its own reason (not the last one's again); the event counts the earlier ones."""
    earlier = [g for g in access.break_glass if g.person_id == person.person_id]
    if any(g.expires_at > now for g in earlier):
        raise Conflict("you already have emergency access to this child; it is not renewed")
    if earlier and _same_words(max(earlier, key=lambda g: g.granted_at).reason, reason):
        raise Invalid("say why this emergency needs access now: the reason given last time is not enough")
    return [
        BreakGlassUsed(
            child_id=access.child_id,
            seq=access.seq + 1,
            actor=actor,
            at=now,
            grant_id=grant_id,
            person=person.ref(),
            reason=reason,
            expires_at=now + duration,
            lead_id=access.lead_id,
            purpose=purpose,
            previous_uses=len(earlier),
        ),
        _decision(
            access,
            seq=access.seq + 2,
            actor=actor,
            now=now,
            person_id=person.person_id,
            shared=True,
            what="break_glass",
            why=f"{purpose}: {reason}",
        ),
    ]


def _same_words(a: str, b: str) -> bool:
    return " ".join(a.lower().split()) == " ".join(b.lower().split())
