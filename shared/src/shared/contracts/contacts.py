"""The agency contract, v1: what an agency's system publishes to `contacts.<agency>` (README, "Publishing
contact events"). The envelope's `type` is `contact.recorded`, its `source` the agency, its `subject` the
child's NHS number (or the agency's own reference for a child without one: it is only the partition key)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from shared.events import Envelope, RawEnvelope
from shared.identity import nhs_number_problem, normalise_nhs_number
from shared.text import Line, Prose
from shared.topics import agency_of_topic

CONTACT_RECORDED = "contact.recorded"

ContactType = Literal[
    "home_visit",
    "office_visit",
    "phone_call",
    "school_attendance_concern",
    "school_exclusion",
    "health_appointment",
    "health_visitor_contact",
    "emergency_department_attendance",
    "police_callout",
    "missing_episode",
    "referral",
    "assessment",
    "strategy_meeting",
    "child_protection_conference",
    "housing_visit",
    "other",
]
CONTACT_TYPES: tuple[str, ...] = ContactType.__args__  # type: ignore[attr-defined]

Impact = Literal["positive", "negative", "neutral"]
Visibility = Literal["family_visible", "restricted"]
Rag = Literal["red", "amber", "green"]


class Author(BaseModel):
    """The practitioner who recorded the contact (mandatory: a chronology entry always has an author)."""

    model_config = ConfigDict(extra="forbid")

    name: Line = Field(min_length=1, max_length=200)
    role: Line = Field(min_length=1, max_length=200)


class ChildIdentifiers(BaseModel):
    """Who the contact was about: the NHS number, or name + date of birth + postcode for matching."""

    model_config = ConfigDict(extra="forbid")

    nhs_number: Line | None = Field(default=None, description="10 digits with a modulus-11 check digit.")
    given_name: Line | None = Field(default=None, max_length=100)
    family_name: Line | None = Field(default=None, max_length=100)
    date_of_birth: date | None = None
    postcode: Line | None = Field(default=None, max_length=10)

    @field_validator("nhs_number")
    @classmethod
    def _valid_nhs_number(cls, value: str | None) -> str | None:
        if value is None:
            return None
        problem = nhs_number_problem(value)
        if problem:
            raise ValueError(problem)
        return normalise_nhs_number(value)

    @model_validator(mode="after")
    def _identifiable(self) -> Self:
        if self.nhs_number is None and not (
            self.given_name and self.family_name and self.date_of_birth and self.postcode
        ):
            raise ValueError(
                "give the child's nhs_number, or given_name, family_name, date_of_birth and postcode"
            )
        return self


class ContactRecorded(BaseModel):
    """One contact or significant event, as the agency's own system recorded it."""

    model_config = ConfigDict(extra="forbid")

    agency: Line = Field(min_length=1, max_length=50, description="Must match the topic's agency.")
    author: Author
    child: ChildIdentifiers
    occurred_at: datetime = Field(description="When it happened (the start, for a period).")
    period_end: datetime | None = Field(default=None, description="The end, when the contact spans a period.")
    date_uncertain: bool = Field(default=False, description="True when the date is an estimate.")
    contact_type: ContactType
    summary: Prose = Field(min_length=1, max_length=4000, description="Plain-language summary.")
    impact: Impact = Field(description="Impact on the child.")
    action_taken: Prose | None = Field(default=None, max_length=4000)
    outcome: Prose | None = Field(default=None, max_length=4000)
    significant: bool = False
    rag: Rag | None = None
    visibility: Visibility = Field(
        default="restricted", description="family_visible entries are shown to the family; restricted never."
    )
    sensitive_service: bool = Field(
        default=False, description="Sexual health, mental health or substance misuse: the provider is hidden."
    )
    supersedes: Line | None = Field(
        default=None,
        max_length=100,
        description="The id of an earlier event of this agency that this one corrects; history is never edited.",
    )

    @model_validator(mode="after")
    def _period_in_order(self) -> Self:
        if self.period_end is not None and self.period_end < self.occurred_at:
            raise ValueError("period_end is before occurred_at")
        if self.occurred_at.tzinfo is None:
            raise ValueError("occurred_at needs a UTC offset, e.g. 2026-03-01T09:30:00Z")
        return self


ContactEnvelope = Envelope[ContactRecorded]  # parametrised once: doing it per call shows in profiles


def decode_contact_event(topic: str, value: bytes) -> Envelope[ContactRecorded]:
    """Validate one record from an agency topic; raises with a reason fit for the dead-letter headers.

    The hot path is one pydantic pass over the bytes; only a record that fails it is read again, slowly,
    to say precisely what is wrong with it."""
    try:
        event = ContactEnvelope.model_validate_json(value)
    except ValidationError:
        _explain(topic, value)
        raise
    if event.type != CONTACT_RECORDED or event.version != 1:
        _explain(topic, value)
    agency = agency_of_topic(topic)
    if agency is None or event.data.agency != agency or event.source != agency:
        raise ValueError(
            f"agency mismatch: topic {topic} accepts events from agency {agency!r} only, "
            f"got source {event.source!r} and data.agency {event.data.agency!r}"
        )
    nhs = event.data.child.nhs_number
    if nhs is not None and normalise_nhs_number(event.subject) != nhs:
        # The subject is the partition key and, for a child with an NHS number, the child the entry is
        # filed under: two different children in one event is a mistake the agency must correct.
        raise ValueError(
            f"child mismatch: subject {event.subject!r} names a different child than "
            f"data.child.nhs_number {nhs!r}; they must be the same NHS number"
        )
    return event


def entry_key(agency: str, event_id: str) -> str:
    """The id of a contact's entry in every read model: an event id is unique only within its agency, so two
    agencies that reuse one never overwrite each other, and `supersedes` resolves within the agency."""
    return f"{agency}:{event_id}"


def _explain(topic: str, value: bytes) -> None:
    """Raise the most useful reason why `value` is not a contact event this consumer reads."""
    raw = RawEnvelope.model_validate_json(value)
    if raw.type != CONTACT_RECORDED:
        raise ValueError(f"unknown event type {raw.type!r} on {topic}; expected {CONTACT_RECORDED!r}")
    if raw.version != 1:
        raise ValueError(
            f"unsupported version {raw.version} of {CONTACT_RECORDED}; this consumer reads version 1"
        )
