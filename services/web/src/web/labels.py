"""Plain-English words for the codes the backends use (agencies, contact types, impact, dates)."""

from __future__ import annotations

from datetime import date, datetime

# The charts' labels are the pages' too: one spelling of each agency and date.
from shared.charts.labels import AGENCY_LABELS as AGENCY_LABELS
from shared.charts.labels import agency_label as agency_label
from shared.charts.labels import as_date as _as_date
from shared.charts.labels import short_date as short_date

CONTACT_TYPE_LABELS: dict[str, str] = {
    "home_visit": "Home visit",
    "office_visit": "Office visit",
    "phone_call": "Phone call",
    "school_attendance_concern": "School attendance concern",
    "school_exclusion": "School exclusion",
    "health_appointment": "Health appointment",
    "health_visitor_contact": "Health visitor contact",
    "emergency_department_attendance": "A&E attendance",
    "police_callout": "Police call-out",
    "missing_episode": "Missing episode",
    "referral": "Referral",
    "assessment": "Assessment",
    "strategy_meeting": "Strategy meeting",
    "child_protection_conference": "Child protection conference",
    "housing_visit": "Housing visit",
    "other": "Other",
}
RELATIONSHIP_LABELS: dict[str, str] = {
    "lead": "You are the lead professional",
    "member": "You are in this child's team",
    "line_manager": "You manage the lead professional",
    "break_glass": "Emergency (break-glass) access",
    "family": "Family",
}


def contact_type_label(contact_type: str) -> str:
    return CONTACT_TYPE_LABELS.get(contact_type, contact_type.replace("_", " ").capitalize())


def long_date(value: date | datetime | str) -> str:
    """`Monday 2 March 2026`."""
    day = _as_date(value)
    return f"{day:%A} {day.day} {day:%B %Y}"


def clock(value: datetime) -> str:
    """`09:15`."""
    return f"{value:%H:%M}"


def when(value: datetime) -> str:
    """`2 Mar 2026 at 09:15`."""
    return f"{short_date(value)} at {clock(value)}"


def age_on(born: date, today: date) -> int:
    years = today.year - born.year
    return years - 1 if (today.month, today.day) < (born.month, born.day) else years


def nhs_number(value: str | None) -> str:
    """`943 476 5919`, the way it is printed on NHS letters."""
    if not value or len(value) != 10 or not value.isdigit():
        return value or ""
    return f"{value[:3]} {value[3:6]} {value[6:]}"
