"""Analytics's Kafka handlers: thin, each hands decoded events to one service function.

Which topics and consumer groups feed them is declared in `analytics.app`."""

from __future__ import annotations

from collections.abc import Sequence

from analytics import service
from analytics.cloud import service as cloud
from analytics.cloud.keywords import Extractor
from analytics.cloud.store import CloudStore
from analytics.store import AnalyticsStore
from shared.access import SnapshotStore
from shared.contact_feed import ChildContact, ContactHandler


def on_contacts(store: AnalyticsStore) -> ContactHandler:
    async def on_contacts(contacts: Sequence[ChildContact]) -> None:
        """Agency contacts are counted in the contact graph once each."""
        await service.record_contacts(store=store, contacts=contacts)

    return on_contacts


def on_cloud_contacts(
    store: CloudStore, pool: Extractor, snapshots: SnapshotStore, rebuilding: cloud.Rebuilding | None = None
) -> ContactHandler:
    async def on_contacts(contacts: Sequence[ChildContact]) -> None:
        """Each contact's keywords are kept once, and its child's clouds rebuilt."""
        await cloud.record_contacts(
            store=store, pool=pool, snapshots=snapshots, contacts=contacts, rebuilding=rebuilding
        )

    return on_contacts
