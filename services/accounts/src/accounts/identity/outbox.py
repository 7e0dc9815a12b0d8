"""The contact resolutions as an outbox (see `accounts.identity.store`), published by the shared relay.

A manager's resolution and the `contact.identified` event it makes are one inserted document; the relay
publishes it, waits for the acknowledgement and marks it published. A crash in between publishes it again:
the event's id is derived from the contact and the child, and consumers ignore an id they have seen.
"""

from __future__ import annotations

from collections.abc import Sequence

from accounts.identity.store import ContactMatchStore
from shared import mongo
from shared.contracts.identity import decode_identity_event
from shared.outbox import OutboxMessage, Pending


class ResolutionOutbox:
    name = "contact_resolutions"

    def __init__(self, store: ContactMatchStore) -> None:
        self._store = store

    async def pending(self, *, limit: int) -> list[Pending]:
        return [_pending(d) for d in await self._store.unpublished(limit=limit)]

    async def mark_published(self, entries: Sequence[Pending]) -> None:
        await self._store.mark_published([str(e.id) for e in entries])

    async def set_aside(self, entry: Pending, reason: str) -> None:
        await self._store.set_aside(str(entry.id), reason=reason)


def _pending(doc: mongo.Document) -> Pending:
    topic = str(doc["topic"])
    try:
        event = decode_identity_event(topic, str(doc["event"]).encode())
    except ValueError as err:
        return Pending(
            id=doc["_id"], unreadable=f"unreadable resolution: {err}"[:2000], child_id=doc.get("child_id")
        )
    return Pending(id=doc["_id"], messages=[OutboxMessage.of(topic, event)], child_id=event.subject)
