"""Chronology's Kafka subscribers: thin, each hands decoded events to one service function."""

from __future__ import annotations

from collections.abc import Sequence

from chronology import service
from chronology.store import ChronologyStore
from shared.contracts.accounts import AccountEvent, decode_account_event
from shared.contracts.contacts import ContactRecorded, decode_contact_event
from shared.contracts.identity import ContactIdentified, decode_identity_event
from shared.events import Envelope
from shared.kafka.consumer import Incoming
from shared.service import Runtime


def register(runtime: Runtime, store: ChronologyStore) -> None:
    """Subscribe to every agency's contact topic, and to account changes for the timeline."""

    async def on_contacts(batch: Sequence[Incoming[Envelope[ContactRecorded]]]) -> None:
        """Agency contacts become chronology entries; invalid ones are dead-lettered, redeliveries ignored."""
        await service.record_contacts(store=store, events=[i.event for i in batch])

    async def on_account_events(batch: Sequence[Incoming[Envelope[AccountEvent]]]) -> None:
        """Who joined, left or leads the team, and status changes, appear on the timeline."""
        await service.record_account_changes(store=store, events=[i.event for i in batch])

    runtime.consume(
        [runtime.topics.accounts_events],
        decode=decode_account_event,
        handle=on_account_events,
        title="chronology: account changes onto the timeline",
        group="timeline",
    )

    async def on_identified(batch: Sequence[Incoming[Envelope[ContactIdentified]]]) -> None:
        """Contacts without an NHS number arrive here once accounts knows which child they were about."""
        await service.record_identified(store=store, events=[i.event for i in batch])

    runtime.consume(
        [runtime.topics.identity_events],
        decode=decode_identity_event,
        handle=on_identified,
        title="chronology: identified contacts",
        group="identified",
    )
    runtime.consume(
        runtime.topics.contacts,
        decode=decode_contact_event,
        handle=on_contacts,
        title="chronology: agency contact events",
    )
