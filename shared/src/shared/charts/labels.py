"""Plain-English words for agencies and dates, in the charts and on the web's pages alike."""

from __future__ import annotations

from datetime import date, datetime

AGENCY_LABELS: dict[str, str] = {
    "school": "School",
    "health": "Health",
    "police": "Police",
    "socialcare": "Children's social care",
    "housing": "Housing",
    "voluntary": "Voluntary sector",
}


def agency_label(agency: str | None) -> str:
    if not agency:
        return ""
    return AGENCY_LABELS.get(agency, agency[:1].upper() + agency[1:])


def short_date(value: date | datetime | str) -> str:
    """`2 Mar 2026`."""
    day = as_date(value)
    return f"{day.day} {day:%b %Y}"


def as_date(value: date | datetime | str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(value[:10])
