"""Analytics's Kafka handlers: thin, each hands decoded events to one service function.

Which topics and consumer groups feed them is declared in `analytics.app`."""

from __future__ import annotations

from collections.abc import Sequence

from analytics import service
from analytics.cloud import service as cloud
from analytics.cloud.keywords import Extractor
from analytics.cloud.store import CloudStore
from analytics.scales import service as scales
from analytics.scales.store import ScaleStore
from analytics.store import AnalyticsStore
from shared.access import SnapshotStore
from shared.contact_feed import ChildContact, ContactHandler
from shared.contracts.forum import ForumEvent
from shared.events import Envelope
from shared.kafka.consumer import BatchHandler, Incoming


def on_contacts(store: AnalyticsStore) -> ContactHandler:
    async def on_contacts(contacts: Sequence[ChildContact]) -> None:
        """Agency contacts are counted in the contact graph once each."""
        await service.record_contacts(store=store, contacts=contacts)

    return on_contacts


def on_cloud_contacts(
    store: CloudStore,
    pool: Extractor,
    snapshots: SnapshotStore,
    rebuilding: cloud.Rebuilding | None = None,
) -> ContactHandler:
    async def on_contacts(contacts: Sequence[ChildContact]) -> None:
        """Each contact's keywords are kept once, and counted in its child's clouds."""
        await cloud.record_contacts(
            store=store, pool=pool, snapshots=snapshots, contacts=contacts, rebuilding=rebuilding
        )

    return on_contacts


def on_cloud_posts(
    store: CloudStore, pool: Extractor, snapshots: SnapshotStore
) -> BatchHandler[Envelope[ForumEvent]]:
    async def on_forum_events(batch: Sequence[Incoming[Envelope[ForumEvent]]]) -> None:
        """Forum posts' words are kept at their latest version, a redacted post's taken out, and the clouds
        of their children counted again."""
        await cloud.record_posts(store=store, pool=pool, snapshots=snapshots, events=[i.event for i in batch])

    return on_forum_events


def on_scales(store: ScaleStore) -> BatchHandler[Envelope[ForumEvent]]:
    async def on_forum_events(batch: Sequence[Incoming[Envelope[ForumEvent]]]) -> None:
        """Each safety scale recorded in the forum is kept once in its child's scale history."""
        await scales.record_scales(store=store, events=[i.event for i in batch])

    return on_forum_events
