"""The chronology read model: one entry per agency contact, and what a reader asks of it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from shared.contracts.contacts import Author, ContactRecorded, ContactType, Impact, Rag, Visibility
from shared.events import Envelope

HIDDEN_PROVIDER = "a confidential health service"


class ChronologyEntry(BaseModel):
    """One line of a child's chronology. `id` is the event id, so a redelivered event is the same entry.

    `superseded_by` and `duplicate_group` are derived when read: a correction may arrive before or after what it
    corrects, and duplicates are only duplicates of what else is on the record."""

    id: str
    child_id: str
    agency: str
    author: Author | None
    occurred_at: datetime
    period_end: datetime | None
    date_uncertain: bool
    day: str
    contact_type: ContactType
    summary: str
    impact: Impact
    action_taken: str | None
    outcome: str | None
    significant: bool
    rag: Rag | None
    visibility: Visibility
    sensitive_service: bool
    recorded_at: datetime
    supersedes: str | None = None
    superseded_by: str | None = None
    duplicate_group: str | None = None
    provider_hidden: bool = False
    significance_marked: bool = False  # the lead set `significant`, over the agency's own flag


class SignificanceChange(BaseModel):
    significant: bool
    reason: str = Field(min_length=3, max_length=2000, description="Why: it is recorded with the mark.")


def entry_document(event: Envelope[ContactRecorded]) -> dict[str, Any]:
    """The stored form of the entry for one contact event, keyed by event id (built without a second
    model: this is the ingest hot path)."""
    doc = event.data.model_dump(exclude={"child"})
    doc.update(
        _id=event.id,
        child_id=event.subject,
        day=event.data.occurred_at.date().isoformat(),
        recorded_at=event.time,
    )
    return doc


class ChronologyQuery(BaseModel):
    """Which entries a reader wants; every field narrows the result."""

    date_from: date | None = None
    date_to: date | None = None
    agencies: list[str] = Field(default_factory=list)
    contact_types: list[ContactType] = Field(default_factory=list)
    significant_only: bool = False


class Lens(BaseModel):
    """What the reader may see, from the access policy's decision."""

    family_view: bool
    see_sensitive_providers: bool


class ChronologyPage(BaseModel):
    child_id: str
    total: int
    entries: list[ChronologyEntry]
    next_cursor: str | None
