"""The accounts contract, v1: what accounts publishes to `accounts.events`, keyed by child id.

Every event is about one child (the envelope's `subject` is the child id) and carries `seq`, the child's
account sequence number: 1 for `child.registered`, then one more for each change. A consumer applies an event
only if its `seq` is above the last one it applied to that child, so a redelivery changes nothing and the
events of one child are applied in the order accounts made them (see `shared.access`).

Addresses, postcodes, schools and GPs never travel in events: they stay in accounts, behind the policy.

A few events are about a person's sign-in, not a child (`PERSON_EVENT_TYPES`: a session ended, an account
disabled or enabled): keyed by the person id, with the person id as the envelope's `subject` and no `seq`.
Every service's token verifier follows them (`shared.auth.revocation`); `decode_account_event`, which the
consumers of children's accounts use, passes over them (`NotForThisConsumer`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shared.events import Envelope, EnvelopeBase, NotForThisConsumer, RawEnvelope, make_event
from shared.policy import FamilyRelationship, PrincipalKind
from shared.text import LINE_CHECK, PROSE_CHECK, Line, Prose

SOURCE = "accounts"

# Text in an event carries no control character (rule 12): a consumer refuses it, naming the field.
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=2000), PROSE_CHECK]
Id = Annotated[str, StringConstraints(min_length=1, max_length=100), LINE_CHECK]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), LINE_CHECK]


class Actor(BaseModel):
    """Who made the change (a person, or `system` for the demo seed)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    person_id: Id
    name: Name
    kind: PrincipalKind | Literal["system"]
    agency: Line | None = None
    role: Line | None = None
    sensitive_service: bool = Field(
        default=False,
        description="Works for a sexual health, mental health or substance misuse service: not to be named.",
    )


class PersonRef(BaseModel):
    """A practitioner as the team directory shows them: who, agency, role, how to reach them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    person_id: Id
    name: Name
    kind: PrincipalKind
    agency: Line | None = None
    role: Line | None = None
    contact: Line | None = Field(default=None, max_length=200)
    sensitive_service: bool = Field(
        default=False, description="Works for a sexual health, mental health or substance misuse service."
    )


class AccountEvent(BaseModel):
    """What every accounts event carries."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    child_id: Id
    seq: int = Field(ge=1, description="The child's account sequence number after this change.")
    actor: Actor
    at: datetime = Field(description="When the change took effect.")


class ChildRegistered(AccountEvent):
    """A child's account was opened; the practitioner who opened it is the lead professional."""

    nhs_number: Line | None = None
    given_name: Name
    family_name: Name
    date_of_birth: date
    shielded: bool = False
    sensitive_service: bool = False
    lead: PersonRef


class ChildFlagsChanged(AccountEvent):
    """The shielded or sensitive-service flag was set or cleared."""

    shielded: bool
    sensitive_service: bool
    reason: Reason


class JoinRequested(AccountEvent):
    request_id: Id
    person: PersonRef
    reason: Reason


class JoinApproved(AccountEvent):
    request_id: Id
    person: PersonRef
    reason: Prose | None = Field(default=None, max_length=2000)


class JoinDeclined(AccountEvent):
    request_id: Id
    person_id: Id
    reason: Reason


class MemberLeft(AccountEvent):
    person_id: Id


class MemberRemoved(AccountEvent):
    person_id: Id
    reason: Reason


class LeadHandedOver(AccountEvent):
    """The lead professional role moved to another member of the team."""

    from_person_id: Id
    to: PersonRef
    reason: Prose | None = Field(default=None, max_length=2000)


class FamilyLinked(AccountEvent):
    """A parent, carer or the child themself may now see the family view of the account."""

    person_id: Id
    name: Name
    relationship: FamilyRelationship
    views_shown_to_family: bool = Field(
        default=False,
        description="The other family members see by name when this person viewed the record (else a count).",
    )


class FamilyUnlinked(AccountEvent):
    person_id: Id
    reason: Reason


BreakGlassPurpose = Literal[
    "immediate_risk_of_harm",
    "emergency_medical_treatment",
    "missing_child",
    "police_protection",
    "out_of_hours_safeguarding",
]
BREAK_GLASS_PURPOSES: tuple[str, ...] = BreakGlassPurpose.__args__  # type: ignore[attr-defined]


class BreakGlassUsed(AccountEvent):
    """Emergency read access without membership: recorded with its purpose and reason, limited in time; what
    the lead professional is alerted by (on the timeline now, and for notifications)."""

    grant_id: Id
    person: PersonRef
    reason: Reason
    expires_at: datetime
    lead_id: Line | None = Field(description="The lead professional to alert.")
    purpose: BreakGlassPurpose | None = Field(
        default=None, description="Why, from the list; None before v1.1."
    )
    previous_uses: int = Field(
        default=0, ge=0, description="Earlier grants to the same person for this child."
    )


class AccessDecisionRecorded(AccountEvent):
    """A decision to share or not to share the child's information with someone, and why (BRIEF §3)."""

    decision_id: Id
    shared: bool
    person_id: Id = Field(description="Who the decision is about.")
    decision: Line = Field(max_length=100, description="join_approved, join_declined, member_removed, ...")
    reason: Prose = Field(max_length=2000)


class PersonEvent(BaseModel):
    """What every event about a person's sign-in carries."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    person_id: Id
    actor: Actor
    at: datetime = Field(description="When it took effect: tokens issued up to then are refused.")
    tokens_until: datetime = Field(
        description="When the last access token it may affect expires: a verifier may forget it after that."
    )


class SessionEnded(PersonEvent):
    """A sign-in session ended: every access token of it is refused, and its refresh token is dead."""

    session_id: Id
    reason: Literal["signed_out", "refresh_token_reused"]


class PersonDisabled(PersonEvent):
    """The account may no longer sign in, and every token issued to it so far is refused."""

    reason: Reason


class PersonEnabled(PersonEvent):
    """A disabled account may sign in again (its old tokens stay refused)."""

    reason: Reason


PERSON_EVENT_TYPES: dict[str, type[PersonEvent]] = {
    "session.ended": SessionEnded,
    "person.disabled": PersonDisabled,
    "person.enabled": PersonEnabled,
}
PERSON_TYPE_OF: dict[type[PersonEvent], str] = {model: name for name, model in PERSON_EVENT_TYPES.items()}


EVENT_TYPES: dict[str, type[AccountEvent]] = {
    "child.registered": ChildRegistered,
    "child.flags_changed": ChildFlagsChanged,
    "join.requested": JoinRequested,
    "join.approved": JoinApproved,
    "join.declined": JoinDeclined,
    "member.left": MemberLeft,
    "member.removed": MemberRemoved,
    "lead.handed_over": LeadHandedOver,
    "family.linked": FamilyLinked,
    "family.unlinked": FamilyUnlinked,
    "break_glass.used": BreakGlassUsed,
    "access_decision.recorded": AccessDecisionRecorded,
}
TYPE_OF: dict[type[AccountEvent], str] = {model: name for name, model in EVENT_TYPES.items()}
# (event type, version) → the envelope with its data, for the JSON Schema export (shared.schemas).
EVENT_SCHEMAS: dict[tuple[str, int], type[BaseModel]] = {
    (name, 1): Envelope[model]  # type: ignore[valid-type]
    for name, model in (*EVENT_TYPES.items(), *PERSON_EVENT_TYPES.items())
}


class AccountEventEnvelope(EnvelopeBase):
    """Any record of `accounts.events`, for the AsyncAPI document: the envelope's `type` says which `data`."""

    data: (
        ChildRegistered
        | ChildFlagsChanged
        | JoinRequested
        | JoinApproved
        | JoinDeclined
        | MemberLeft
        | MemberRemoved
        | LeadHandedOver
        | FamilyLinked
        | FamilyUnlinked
        | BreakGlassUsed
        | AccessDecisionRecorded
        | SessionEnded
        | PersonDisabled
        | PersonEnabled
    )


def account_event(
    data: AccountEvent, *, correlation_id: str | None = None, event_id: str | None = None
) -> Envelope[AccountEvent]:
    """The envelope an accounts event travels in: typed by its model, about its child."""
    return make_event(
        type=TYPE_OF[type(data)],
        source=SOURCE,
        subject=data.child_id,
        data=data,
        correlation_id=correlation_id,
        event_id=event_id,
    )


def decode_account_event(topic: str, value: bytes) -> Envelope[AccountEvent]:
    """Validate one record from `accounts.events`; raises with a reason fit for the dead-letter headers."""
    raw = RawEnvelope.model_validate_json(value)
    if raw.type in PERSON_EVENT_TYPES:
        raise NotForThisConsumer(f"{raw.type} is about a person's sign-in, not a child's account")
    model = EVENT_TYPES.get(raw.type)
    if model is None:
        raise ValueError(f"unknown event type {raw.type!r} on {topic}")
    if raw.version != 1:
        raise ValueError(f"unsupported version {raw.version} of {raw.type}; this consumer reads version 1")
    data: AccountEvent = model.model_validate(raw.data)
    if data.child_id != raw.subject:
        raise ValueError(f"subject {raw.subject!r} is not the event's child {data.child_id!r}")
    # Unparametrised on purpose: an `Envelope[AccountEvent]` would serialise only the base class's fields.
    envelope: Envelope[AccountEvent] = Envelope(**raw.model_dump(exclude={"data"}), data=data)
    return envelope


def person_event(data: PersonEvent, *, correlation_id: str | None = None) -> Envelope[PersonEvent]:
    """The envelope of an event about a person's sign-in: keyed by, and about, the person."""
    return make_event(
        type=PERSON_TYPE_OF[type(data)],
        source=SOURCE,
        subject=data.person_id,
        data=data,
        correlation_id=correlation_id,
    )


def decode_person_event(topic: str, value: bytes) -> Envelope[PersonEvent]:
    """Validate one person event from `accounts.events`; `NotForThisConsumer` for a child's account event."""
    raw = RawEnvelope.model_validate_json(value)
    model = PERSON_EVENT_TYPES.get(raw.type)
    if model is None:
        if raw.type in EVENT_TYPES:
            raise NotForThisConsumer(f"{raw.type} is about a child's account, not a person's sign-in")
        raise ValueError(f"unknown event type {raw.type!r} on {topic}")
    if raw.version != 1:
        raise ValueError(f"unsupported version {raw.version} of {raw.type}; this consumer reads version 1")
    data: PersonEvent = model.model_validate(raw.data)
    if data.person_id != raw.subject:
        raise ValueError(f"subject {raw.subject!r} is not the event's person {data.person_id!r}")
    envelope: Envelope[PersonEvent] = Envelope(**raw.model_dump(exclude={"data"}), data=data)
    return envelope
