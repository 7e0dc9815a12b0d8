"""The contacts a read model stores, each with the child it is about — one rule for every consumer.

A contact with an NHS number is about that child (the envelope's subject). One without waits in accounts until
the child is identified, and arrives on `identity.events` with the child's id; the copy on the agency topic is
skipped, so it can never land under the agency's own reference.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from shared.contracts.contacts import ContactRecorded, decode_contact_event
from shared.contracts.identity import ContactIdentified, decode_identity_event
from shared.events import Envelope
from shared.kafka.consumer import Incoming
from shared.service import Runtime


@dataclass(frozen=True)
class ChildContact:
    child_id: str
    event: Envelope[ContactRecorded]


ContactHandler = Callable[[Sequence[ChildContact]], Awaitable[None]]


def follow_contacts(runtime: Runtime, handle: ContactHandler) -> None:
    """Hand `handle` every contact whose child is known, from the agency topics and from `identity.events`."""
    name = runtime.settings.service_name

    async def on_contacts(batch: Sequence[Incoming[Envelope[ContactRecorded]]]) -> None:
        await handle([ChildContact(i.event.subject, i.event) for i in batch if i.event.data.child.nhs_number])

    async def on_identified(batch: Sequence[Incoming[Envelope[ContactIdentified]]]) -> None:
        await handle([ChildContact(i.event.data.child_id, i.event.data.contact) for i in batch])

    runtime.consume(
        runtime.topics.contacts,
        decode=decode_contact_event,
        handle=on_contacts,
        title=f"{name}: agency contacts",
    )
    runtime.consume(
        [runtime.topics.identity_events],
        decode=decode_identity_event,
        handle=on_identified,
        title=f"{name}: identified contacts",
        group="identified",
    )
