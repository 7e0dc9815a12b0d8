"""Chronology's Kafka subscribers: thin, each hands decoded events to one service function."""

from __future__ import annotations

from collections.abc import Sequence

from chronology import service
from chronology.store import ChronologyStore
from shared.contact_feed import ChildContact, follow_contacts
from shared.contracts.accounts import AccountEvent, decode_account_event
from shared.events import Envelope
from shared.kafka.consumer import Incoming
from shared.service import Runtime


def register(runtime: Runtime, store: ChronologyStore) -> None:
    """Every contact whose child is known, and account changes for the timeline."""

    async def on_contacts(contacts: Sequence[ChildContact]) -> None:
        """Agency contacts become chronology entries; invalid ones are dead-lettered, redeliveries ignored."""
        await service.record_contacts(store=store, contacts=contacts)

    async def on_account_events(batch: Sequence[Incoming[Envelope[AccountEvent]]]) -> None:
        """Who joined, left or leads the team, and status changes, appear on the timeline."""
        await service.record_account_changes(store=store, events=[i.event for i in batch])

    follow_contacts(runtime, on_contacts)
    runtime.consume(
        [runtime.topics.accounts_events],
        decode=decode_account_event,
        handle=on_account_events,
        title="chronology: account changes onto the timeline",
        group="timeline",
    )
