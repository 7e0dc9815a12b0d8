"""The chronology read model: one entry per agency contact, as the API serves it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from shared.contracts.contacts import Author, ContactRecorded, ContactType, Impact, Rag, Visibility
from shared.events import Envelope


class ChronologyEntry(BaseModel):
    """One line of a child's chronology. `id` is the event id, so a redelivered event is the same entry."""

    id: str
    child_id: str
    agency: str
    author: Author
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


class ChronologyPage(BaseModel):
    child_id: str
    total: int
    entries: list[ChronologyEntry]
    next_cursor: str | None
