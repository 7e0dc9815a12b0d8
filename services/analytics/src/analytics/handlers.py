"""Analytics's Kafka subscribers: thin, each hands decoded events to one service function."""

from __future__ import annotations

from collections.abc import Sequence

from analytics import service
from analytics.store import AnalyticsStore
from shared.contracts.contacts import ContactRecorded, decode_contact_event
from shared.contracts.identity import ContactIdentified, decode_identity_event
from shared.events import Envelope
from shared.kafka.consumer import Incoming
from shared.service import Runtime


def register(runtime: Runtime, store: AnalyticsStore) -> None:
    """Subscribe to every agency's contact topic in the `analytics` consumer group."""

    async def on_contacts(batch: Sequence[Incoming[Envelope[ContactRecorded]]]) -> None:
        """Agency contacts are counted in the contact graph once each."""
        await service.record_contacts(store=store, events=[i.event for i in batch])

    async def on_identified(batch: Sequence[Incoming[Envelope[ContactIdentified]]]) -> None:
        """Contacts without an NHS number arrive here once accounts knows which child they were about."""
        await service.record_identified(store=store, events=[i.event for i in batch])

    runtime.consume(
        [runtime.topics.identity_events],
        decode=decode_identity_event,
        handle=on_identified,
        title="analytics: identified contacts",
        group="identified",
    )
    runtime.consume(
        runtime.topics.contacts,
        decode=decode_contact_event,
        handle=on_contacts,
        title="analytics: agency contact events",
    )
