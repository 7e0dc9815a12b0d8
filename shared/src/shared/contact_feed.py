"""The contacts a read model stores, each with the child it is about — one rule for every consumer.

A contact with an NHS number is about that child (the envelope's subject). One without waits in accounts until
the child is identified, and arrives on `identity.events` with the child's id; the copy on the agency topic is
skipped, so it can never land under the agency's own reference.

A service subscribes both handlers in its composition root:

    feed = ContactFeed(on_contacts)
    runtime.consume(topics.contacts, decode=decode_contact_event, handle=feed.on_agency_contacts, ...)
    runtime.consume([topics.identity_events], group="identified", decode=decode_identity_event,
                    handle=feed.on_identified_contacts, ...)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from shared.contracts.contacts import ContactRecorded
from shared.contracts.identity import ContactIdentified
from shared.events import Envelope
from shared.kafka.consumer import Incoming


@dataclass(frozen=True)
class ChildContact:
    child_id: str
    event: Envelope[ContactRecorded]


ContactHandler = Callable[[Sequence[ChildContact]], Awaitable[None]]


class ContactFeed:
    """Hands `handle` every contact whose child is known, from either topic."""

    def __init__(self, handle: ContactHandler) -> None:
        self._handle = handle

    async def on_agency_contacts(self, batch: Sequence[Incoming[Envelope[ContactRecorded]]]) -> None:
        """Contacts that name the child by NHS number; the others wait for accounts to identify them."""
        await self._handle(
            [ChildContact(i.event.subject, i.event) for i in batch if i.event.data.child.nhs_number]
        )

    async def on_identified_contacts(self, batch: Sequence[Incoming[Envelope[ContactIdentified]]]) -> None:
        """Contacts without an NHS number, once accounts has said which child they are about."""
        await self._handle([ChildContact(i.event.data.child_id, i.event.data.contact) for i in batch])
