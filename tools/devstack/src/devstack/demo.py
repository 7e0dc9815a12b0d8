"""Demo data for the local stack: a few children with a year of multi-agency contacts.

Published the way an agency would (one topic per agency, keyed by NHS number), so the demo exercises the
same ingest path as production. Event ids are derived from the content, so loading twice changes nothing.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

from aiokafka import AIOKafkaProducer

from devstack.demo_accounts import CHILDREN
from devstack.infra import Endpoints
from shared.contracts.contacts import (
    CONTACT_RECORDED,
    Author,
    ChildIdentifiers,
    ContactRecorded,
    ContactType,
    Impact,
)
from shared.events import Envelope, make_event
from shared.topics import contact_topic

# the demo children accounts is seeded with (`devstack.demo_accounts`): NHS number → name
DEMO_CHILDREN = {nhs: f"{details.given_name} {details.family_name}" for nhs, (details, _) in CHILDREN.items()}
AGENCY_CONTACTS: dict[str, list[tuple[ContactType, str, Impact]]] = {
    "school": [
        (
            "school_attendance_concern",
            "Absent three days this week with no explanation from home.",
            "negative",
        ),
        ("school_attendance_concern", "Arrived late and hungry; breakfast club place offered.", "negative"),
        ("office_visit", "Met with mother about attendance plan; she agreed to daily check-ins.", "positive"),
        ("other", "Settled well in class; teacher reports improved concentration.", "positive"),
    ],
    "health": [
        (
            "health_visitor_contact",
            "Health visitor home contact; growth on track, dental referral made.",
            "neutral",
        ),
        (
            "emergency_department_attendance",
            "Seen at A&E with a wrist injury; explanation consistent.",
            "neutral",
        ),
        ("health_appointment", "Missed paediatric appointment; rebooked by GP surgery.", "negative"),
    ],
    "police": [
        (
            "police_callout",
            "Called to a verbal argument at the home address; children present, no injuries.",
            "negative",
        ),
        ("missing_episode", "Reported missing for four hours; found safe at a friend's house.", "negative"),
    ],
    "socialcare": [
        (
            "home_visit",
            "Social worker visit; home conditions improved, child spoke about school friends.",
            "positive",
        ),
        ("strategy_meeting", "Strategy meeting held; agreed section 47 enquiry.", "neutral"),
        (
            "child_protection_conference",
            "Initial child protection conference; plan agreed under neglect.",
            "neutral",
        ),
    ],
    "housing": [
        ("housing_visit", "Damp and mould reported; repairs scheduled within two weeks.", "negative"),
    ],
}


def demo_events(now: datetime | None = None) -> list[tuple[str, Envelope[ContactRecorded]]]:
    """(topic, event) pairs: about a year of contacts per demo child, the same every time."""
    rng = random.Random(2026)
    end = now or datetime(2026, 11, 1, tzinfo=UTC)
    out: list[tuple[str, Envelope[ContactRecorded]]] = []
    for nhs in DEMO_CHILDREN:
        for n in range(40):
            agency = rng.choice(list(AGENCY_CONTACTS))
            contact_type, summary, impact = rng.choice(AGENCY_CONTACTS[agency])
            occurred = end - timedelta(days=rng.randrange(0, 365), hours=rng.randrange(8, 18))
            data = ContactRecorded(
                agency=agency,
                author=Author(name=f"Demo {agency} practitioner", role="Practitioner"),
                child=ChildIdentifiers(nhs_number=nhs),
                occurred_at=occurred.replace(minute=0, second=0, microsecond=0),
                contact_type=contact_type,
                summary=summary,
                impact=impact,
                significant=contact_type in ("child_protection_conference", "missing_episode"),
                visibility="restricted" if agency == "police" else "family_visible",
            )
            event_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"demo/{nhs}/{n}"))
            event = make_event(
                type=CONTACT_RECORDED, source=agency, subject=nhs, data=data, event_id=event_id
            )
            out.append((contact_topic(agency), event))
    return out


async def load_demo(endpoints: Endpoints) -> str:
    """Publish the demo contacts; returns a one-line summary for the console."""
    producer = AIOKafkaProducer(
        bootstrap_servers=endpoints.kafka_bootstrap, acks="all", enable_idempotence=True
    )
    await producer.start()
    try:
        events = demo_events()
        for topic, event in events:
            await producer.send(topic, event.model_dump_json().encode(), key=event.subject.encode())
        await producer.flush()
    finally:
        await producer.stop()
    return f"published {len(events)} demo contact events for {len(DEMO_CHILDREN)} children: " + ", ".join(
        f"{name} ({nhs})" for nhs, name in DEMO_CHILDREN.items()
    )
