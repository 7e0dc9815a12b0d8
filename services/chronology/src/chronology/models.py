"""The chronology read model: one entry per agency contact, as the API serves it."""

from __future__ import annotations

from datetime import datetime

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

    @classmethod
    def from_contact(cls, event: Envelope[ContactRecorded]) -> ChronologyEntry:
        c = event.data
        return cls(
            id=event.id,
            child_id=event.subject,
            agency=c.agency,
            author=c.author,
            occurred_at=c.occurred_at,
            period_end=c.period_end,
            date_uncertain=c.date_uncertain,
            day=c.occurred_at.date().isoformat(),
            contact_type=c.contact_type,
            summary=c.summary,
            impact=c.impact,
            action_taken=c.action_taken,
            outcome=c.outcome,
            significant=c.significant,
            rag=c.rag,
            visibility=c.visibility,
            sensitive_service=c.sensitive_service,
            recorded_at=event.time,
        )


class ChronologyPage(BaseModel):
    child_id: str
    total: int
    entries: list[ChronologyEntry]
    next_cursor: str | None
