"""The contact-graph read model: one point per agency contact, with the keys the graph groups by."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Literal

from pydantic import BaseModel

from shared.contracts.contacts import ContactRecorded, entry_key
from shared.events import Envelope

Granularity = Literal["day", "week"]


def point_document(event: Envelope[ContactRecorded], *, child_id: str) -> dict[str, Any]:
    """What the graph needs of one contact, keyed by agency and event id (`entry_key`, as chronology). Day and week are precomputed at write time:
    FerretDB has no `$dateTrunc` or `$dateToString` (BRIEF §5), and a read model stores what it serves."""
    day = event.data.occurred_at.date()
    doc: dict[str, Any] = {
        "_id": entry_key(event.data.agency, event.id),
        "child_id": child_id,
        "agency": event.data.agency,
        "occurred_at": event.data.occurred_at,
        "day": day.isoformat(),
        "week": week_start(day).isoformat(),
        "visibility": event.data.visibility,
    }
    if event.data.sensitive_service:  # left out when false: every stored field costs on the ingest path
        doc["sensitive_service"] = True
    return doc


def week_start(day: date) -> date:
    """The Monday of `day`'s ISO week: the label of its week bucket."""
    return day - timedelta(days=day.weekday())


class AgencySeries(BaseModel):
    agency: str
    points: list[tuple[str, int]]  # (period start, contacts in that period), periods in order


class ContactGraph(BaseModel):
    child_id: str
    granularity: Granularity
    total: int
    series: list[AgencySeries]
