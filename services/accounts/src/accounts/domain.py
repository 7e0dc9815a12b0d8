"""Accounts' pure rules: people, children, identity matching, and the team changes that become events.

No I/O, no clock: times and ids come in as arguments. Each team change returns the events it makes, numbered
from the child's current `seq`; the caller folds them into the snapshot with `shared.access.fold` and saves
state and events together.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.accounts import (
    AccessDecisionRecorded,
    AccountEvent,
    Actor,
    BreakGlassUsed,
    ChildFlagsChanged,
    ChildRegistered,
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
from shared.policy import ChildAccess, FamilyRelationship, Principal, PrincipalKind


class DomainError(Exception):
    """A request that the rules refuse; the message is for the person who made it."""


class NotFound(DomainError):
    pass


class Conflict(DomainError):
    """The request does not fit the account's current state (already a member, no longer pending, ...)."""


class Invalid(DomainError):
    pass


class Person(BaseModel):
    """Anyone who signs in: practitioner, manager, family member (parent, carer, the child), auditor, or an
    agency's system."""

    model_config = ConfigDict(frozen=True)

    person_id: str
    username: str
    name: str
    kind: PrincipalKind
    agency: str | None = None
    role: str | None = None
    contact: str | None = None
    sensitive_service: bool = False
    password_hash: str | None = Field(default=None, repr=False)

    def principal(self) -> Principal:
        return Principal(
            subject=self.person_id, name=self.name, kind=self.kind, agency=self.agency, role=self.role
        )

    def ref(self) -> PersonRef:
        return PersonRef(
            person_id=self.person_id,
            name=self.name,
            kind=self.kind,
            agency=self.agency,
            role=self.role,
            contact=self.contact,
            sensitive_service=self.sensitive_service,
        )


class ChildDetails(BaseModel):
    """Who the child is and where they live: what accounts holds and never puts in an event but the name."""

    model_config = ConfigDict(frozen=True)

    nhs_number: str | None = None
    given_name: str
    family_name: str
    date_of_birth: date
    address: str | None = None
    postcode: str | None = None
    school: str | None = None
    gp: str | None = None


class Child(BaseModel):
    """A child's account: details, and the access snapshot folded from its events. The child id is the NHS
    number when the child has one (the consistent identifier, BRIEF §3: agencies key their events by it), and
    a generated `c-...` id otherwise."""

    model_config = ConfigDict(frozen=True)

    child_id: str
    details: ChildDetails
    access: ChildAccess
    created_at: datetime

    @property
    def seq(self) -> int:
        return self.access.seq


def actor_of(principal: Principal) -> Actor:
    return Actor(
        person_id=principal.subject,
        name=principal.name,
        kind=principal.kind,
        agency=principal.agency,
        role=principal.role,
    )


SYSTEM = Actor(person_id="system", name="Safeguarding 2.0", kind="system")


# --- identity matching (BRIEF §3: uncertain matches go to a human, never silently merged) --------------------


def name_key(name: str) -> str:
    return re.sub(r"[^a-z]", "", name.casefold())


def postcode_key(postcode: str | None) -> str:
    return re.sub(r"\s", "", postcode or "").upper()


@dataclass(frozen=True)
class MatchOutcome:
    kind: Literal["new", "match", "uncertain"]
    child_ids: tuple[str, ...] = ()


def _similar(a: str, b: str) -> bool:
    return difflib.SequenceMatcher(None, name_key(a), name_key(b)).ratio() >= 0.8


def match_child(new: ChildDetails, candidates: list[Child]) -> MatchOutcome:
    """Whether `new` is a child who already has an account. `candidates` are the children with the same NHS
    number or the same date of birth.

    - the same NHS number: a match;
    - no NHS number on one side, and exactly one child with the same name, date of birth and postcode: a match
      when `new` has no NHS number, uncertain when it has one (a person must confirm the two are the same);
    - several exact matches, or names that are close but not equal: uncertain;
    - otherwise (or different NHS numbers on both sides): a new child.
    """
    if new.nhs_number:
        same = [c for c in candidates if c.details.nhs_number == new.nhs_number]
        if same:
            return MatchOutcome("match", (same[0].child_id,))
    exact: list[str] = []
    close: list[str] = []
    for child in candidates:
        old = child.details
        if old.date_of_birth != new.date_of_birth:
            continue
        if old.nhs_number and new.nhs_number and old.nhs_number != new.nhs_number:
            continue  # two different NHS numbers are two different children
        same_names = name_key(old.given_name) == name_key(new.given_name) and name_key(
            old.family_name
        ) == name_key(new.family_name)
        same_postcode = bool(new.postcode) and postcode_key(old.postcode) == postcode_key(new.postcode)
        if same_names and same_postcode:
            exact.append(child.child_id)
            continue
        signals = [
            _similar(old.given_name, new.given_name),
            _similar(old.family_name, new.family_name),
            same_postcode,
        ]
        if sum(signals) >= 2:
            close.append(child.child_id)
    if len(exact) == 1 and not close and not new.nhs_number:
        return MatchOutcome("match", tuple(exact))
    if exact or close:
        return MatchOutcome("uncertain", tuple(exact + close))
    return MatchOutcome("new")


# --- team changes -------------------------------------------------------------------------------------------


def register(
    *,
    child_id: str,
    details: ChildDetails,
    lead: Person,
    actor: Actor,
    shielded: bool,
    sensitive_service: bool,
    now: datetime,
) -> ChildRegistered:
    if lead.kind not in ("practitioner", "manager"):
        raise Invalid("the lead professional must be a practitioner or a manager")
    return ChildRegistered(
        child_id=child_id,
        seq=1,
        actor=actor,
        at=now,
        nhs_number=details.nhs_number,
        given_name=details.given_name,
        family_name=details.family_name,
        date_of_birth=details.date_of_birth,
        shielded=shielded,
        sensitive_service=sensitive_service,
        lead=lead.ref(),
    )


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
    access: ChildAccess, *, person: Person, relationship: FamilyRelationship, actor: Actor, now: datetime
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
    reason: str,
    grant_id: str,
    duration: timedelta,
    actor: Actor,
    now: datetime,
) -> list[AccountEvent]:
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
        ),
        _decision(
            access,
            seq=access.seq + 2,
            actor=actor,
            now=now,
            person_id=person.person_id,
            shared=True,
            what="break_glass",
            why=reason,
        ),
    ]


def change_flags(
    access: ChildAccess, *, shielded: bool, sensitive_service: bool, reason: str, actor: Actor, now: datetime
) -> list[AccountEvent]:
    if access.shielded == shielded and access.sensitive_service == sensitive_service:
        raise Conflict("the flags already have these values")
    return [
        ChildFlagsChanged(
            child_id=access.child_id,
            seq=access.seq + 1,
            actor=actor,
            at=now,
            shielded=shielded,
            sensitive_service=sensitive_service,
            reason=reason,
        )
    ]
