"""Analytics's Kafka subscribers: thin, each hands decoded events to one service function."""

from __future__ import annotations

from collections.abc import Sequence

from analytics import service
from analytics.store import AnalyticsStore
from shared.contact_feed import ChildContact, follow_contacts
from shared.service import Runtime


def register(runtime: Runtime, store: AnalyticsStore) -> None:
    """Count every contact whose child is known, in the `analytics` consumer groups."""

    async def on_contacts(contacts: Sequence[ChildContact]) -> None:
        """Agency contacts are counted in the contact graph once each."""
        await service.record_contacts(store=store, contacts=contacts)

    follow_contacts(runtime, on_contacts)
