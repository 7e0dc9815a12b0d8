"""The contact-graph read model: one point per agency contact, with the keys the graph groups by."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field

from shared.contracts.contacts import ContactRecorded, entry_key
from shared.events import Envelope

Granularity = Literal["day", "week", "month"]
AskedGranularity = Literal["auto", "day", "week", "month"]
WEEKS_UP_TO_DAYS = 190  # "auto": weeks for about six months of contact, months beyond


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
    if event.data.supersedes:  # a correction replaces its original in the graph
        doc["supersedes"] = entry_key(event.data.agency, event.data.supersedes)
    return doc


def week_start(day: date) -> date:
    """The Monday of `day`'s ISO week: the label of its week bucket."""
    return day - timedelta(days=day.weekday())


def period_start(day: date, granularity: Granularity) -> date:
    if granularity == "week":
        return week_start(day)
    if granularity == "month":
        return day.replace(day=1)
    return day


def periods_between(first: date, last: date, granularity: Granularity) -> list[str]:
    """Every period from the one holding `first` to the one holding `last`: the graph shows the weeks (or
    months) without contact too, so that a silence is as visible as a rise."""
    current, end = period_start(first, granularity), period_start(last, granularity)
    out = []
    while current <= end:
        out.append(current.isoformat())
        if granularity == "month":
            current = (current.replace(day=28) + timedelta(days=4)).replace(day=1)
        else:
            current += timedelta(days=7 if granularity == "week" else 1)
    return out


def resolve_granularity(asked: AskedGranularity, first: date | None, last: date | None) -> Granularity:
    if asked != "auto":
        return asked
    if first is None or last is None or (last - first).days <= WEEKS_UP_TO_DAYS:
        return "week"
    return "month"


class AgencySeries(BaseModel):
    agency: str
    points: list[tuple[str, int]] = Field(
        description="(period start, contacts in that period) for the periods with contact, in order."
    )


class ContactGraph(BaseModel):
    child_id: str
    granularity: Granularity = Field(description="The one asked for, or chosen for the span (auto).")
    total: int = Field(description="Contacts in force: a correction replaces what it corrects.")
    periods: list[str] = Field(
        default_factory=list, description="Every period from the first contact's to the last's, in order."
    )
    series: list[AgencySeries]
