"""The identity contract, v1: accounts publishes to `identity.events` which child a contact event was about,
when the agency could not say it with an NHS number. Keyed by the child id.

Chronology and analytics take such contacts from here, never from the agency topic, so an unmatched contact
waits in accounts (for a person to confirm who the child is) instead of landing under a wrong child.
"""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.contacts import ContactEnvelope, entry_key
from shared.events import Envelope, RawEnvelope, make_event
from shared.text import Line

CONTACT_IDENTIFIED = "contact.identified"


class ContactIdentified(BaseModel):
    model_config = ConfigDict(extra="forbid")

    child_id: Line = Field(min_length=1, max_length=100)
    how: Literal["exact_match", "confirmed_by_person"]
    confirmed_by: Line | None = Field(default=None, max_length=100)
    contact: ContactEnvelope  # the agency's event, unchanged: downstream its entry is `<agency>:<event id>`


def contact_identified(data: ContactIdentified) -> Envelope[ContactIdentified]:
    """The event, with an id derived from the contact (its agency and id: an id is unique only within an
    agency) and the child, so publishing it twice is harmless."""
    contact = entry_key(data.contact.data.agency, data.contact.id)
    event_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"identified/{contact}/{data.child_id}"))
    return make_event(
        type=CONTACT_IDENTIFIED, source="accounts", subject=data.child_id, data=data, event_id=event_id
    )


def decode_identity_event(topic: str, value: bytes) -> Envelope[ContactIdentified]:
    raw = RawEnvelope.model_validate_json(value)
    if raw.type != CONTACT_IDENTIFIED or raw.version != 1:
        raise ValueError(f"unknown event {raw.type!r} v{raw.version} on {topic}")
    event = raw.parse_data(ContactIdentified)
    if event.data.child_id != event.subject:
        raise ValueError(f"subject {event.subject!r} is not the identified child {event.data.child_id!r}")
    return event
