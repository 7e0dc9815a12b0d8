"""Chronology's Kafka handlers: thin, each hands decoded events to one service function.

Which topics and consumer groups feed them is declared in `chronology.app`."""

from __future__ import annotations

from collections.abc import Sequence

from chronology import service
from chronology.store import ChronologyStore
from shared.contact_feed import ChildContact, ContactHandler
from shared.contracts.accounts import AccountEvent
from shared.contracts.forum import ForumEvent
from shared.events import Envelope
from shared.kafka.consumer import BatchHandler, Incoming


def on_contacts(store: ChronologyStore) -> ContactHandler:
    async def on_contacts(contacts: Sequence[ChildContact]) -> None:
        """Agency contacts become chronology entries; invalid ones are dead-lettered, redeliveries ignored."""
        await service.record_contacts(store=store, contacts=contacts)

    return on_contacts


def on_account_events(store: ChronologyStore) -> BatchHandler[Envelope[AccountEvent]]:
    async def on_account_events(batch: Sequence[Incoming[Envelope[AccountEvent]]]) -> None:
        """Who joined, left or leads the team, and status changes, appear on the timeline."""
        await service.record_account_changes(store=store, events=[i.event for i in batch])

    return on_account_events


def on_forum_events(store: ChronologyStore) -> BatchHandler[Envelope[ForumEvent]]:
    async def on_forum_events(batch: Sequence[Incoming[Envelope[ForumEvent]]]) -> None:
        """Worries, pins and scales from the forum appear on the timeline; redactions reach their entries."""
        await service.record_forum_changes(store=store, events=[i.event for i in batch])

    return on_forum_events
