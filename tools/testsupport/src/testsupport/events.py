"""Events as producers send them, for tests of the services that consume them: agency contacts and the
account history of a child (opened by a lead, a parent linked)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from typing import Any

from shared.contact_feed import ChildContact
from shared.contracts.accounts import (
    AccountEvent,
    Actor,
    ChildRegistered,
    FamilyLinked,
    PersonRef,
    account_event,
)
from shared.contracts.contacts import CONTACT_RECORDED, ContactRecorded, entry_key
from shared.events import Envelope, make_event
from shared.identity import with_check_digit

_numbers = itertools.count(100_000_000)


def new_nhs_number() -> str:
    """A valid NHS number not used before in this test session."""
    while True:
        number = with_check_digit(str(next(_numbers)))
        if number:
            return number


def contact_event(
    nhs_number: str,
    *,
    agency: str = "school",
    occurred_at: datetime = datetime(2026, 3, 2, 9, 15, tzinfo=UTC),
    summary: str = "Home visit; child well.",
    contact_type: str = "home_visit",
    visibility: str = "family_visible",
    event_id: str | None = None,
    **data: Any,
) -> Envelope[ContactRecorded]:
    """What agency `agency` publishes about one contact with the child (more `data` fields as given)."""
    contact = ContactRecorded.model_validate(
        {
            "agency": agency,
            "author": {"name": "Ms Patel", "role": "Designated safeguarding lead"},
            "child": {"nhs_number": nhs_number},
            "occurred_at": occurred_at,
            "contact_type": contact_type,
            "summary": summary,
            "impact": "neutral",
            "visibility": visibility,
            **data,
        }
    )
    return make_event(
        type=CONTACT_RECORDED, source=agency, subject=nhs_number, data=contact, event_id=event_id
    )


def entry_id_of(event: Envelope[ContactRecorded]) -> str:
    """The id of the entry (or graph point) a read model keeps for this contact."""
    return entry_key(event.data.agency, event.id)


def child_contact(event: Envelope[ContactRecorded]) -> ChildContact:
    """The contact as the contact feed hands it on: about the child its NHS number names."""
    return ChildContact(event.subject, event)


def person(person_id: str, *, agency: str = "socialcare", sensitive: bool = False) -> PersonRef:
    return PersonRef(
        person_id=person_id,
        name=f"Test {person_id}",
        kind="practitioner",
        agency=agency,
        role="Social worker",
        sensitive_service=sensitive,
    )


def account_opened(
    child_id: str, *, lead_id: str, family_id: str | None = None, at: datetime | None = None
) -> list[Envelope[AccountEvent]]:
    """What accounts publishes when a lead opens a child's account (and, if given, links a parent)."""
    when = at or datetime.now(UTC)
    actor = Actor(person_id=lead_id, name=f"Test {lead_id}", kind="practitioner")
    events: list[AccountEvent] = [
        ChildRegistered(
            child_id=child_id,
            seq=1,
            actor=actor,
            at=when,
            nhs_number=child_id,
            given_name="Test",
            family_name="Child",
            date_of_birth=date(2016, 5, 4),
            lead=person(lead_id),
        )
    ]
    if family_id:
        events.append(
            FamilyLinked(
                child_id=child_id,
                seq=2,
                actor=actor,
                at=when,
                person_id=family_id,
                name="Test parent",
                relationship="parent",
            )
        )
    return [account_event(e) for e in events]
