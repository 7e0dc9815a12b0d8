"""The children's access snapshots, kept in memory in front of the store: every rule and every push to a live
stream asks who may see a child, and a round trip to FerretDB for each was most of the time between an event
and its notification (README, "Notifications on a live stream").

Correct because the events that change a snapshot pass through here: this process's consumer of
`accounts.events` applies a batch to the store, then drops the children it named, and a read that started
before the drop never puts its older answer back (a generation per child). Another replica applying changes
for partitions this one does not consume is seen within `ttl_s`, after which an entry is read again. A stale
snapshot (`SnapshotStale`) and an unknown child are never kept: both are asked again every time.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from aiokafka import ConsumerRecord

from shared.access import SnapshotStore
from shared.contracts.accounts import AccountEvent
from shared.events import Envelope
from shared.kafka.consumer import Incoming
from shared.policy import Action, ChildAccess, Decision, Principal, decide


class CachedSnapshots:
    """A `SnapshotStore` that answers from memory what it read within `ttl_s`, for at most `size` children."""

    def __init__(self, store: SnapshotStore, *, ttl_s: float, size: int = 10_000) -> None:
        self._store = store
        self._ttl_s = ttl_s
        self._size = size
        self._kept: OrderedDict[str, tuple[float, ChildAccess]] = OrderedDict()
        self._generation: dict[str, int] = {}

    async def create_indexes(self) -> None:
        await self._store.create_indexes()

    async def get(self, child_id: str) -> ChildAccess | None:
        kept = self._kept.get(child_id)
        if kept is not None and time.monotonic() - kept[0] < self._ttl_s:
            self._kept.move_to_end(child_id)
            return kept[1]
        generation = self._generation.get(child_id, 0)
        read_at = time.monotonic()
        access = await self._store.get(child_id)  # SnapshotStale propagates: never kept
        if access is not None and self._generation.get(child_id, 0) == generation:
            self._kept[child_id] = (read_at, access)
            self._kept.move_to_end(child_id)
            while len(self._kept) > self._size:
                self._kept.popitem(last=False)
        return access

    async def decide(
        self, principal: Principal, action: Action, child_id: str, *, now: datetime | None = None
    ) -> Decision:
        return decide(principal, action, await self.get(child_id), now=now or datetime.now(UTC))

    async def on_account_events(self, batch: Sequence[Incoming[Envelope[AccountEvent]]]) -> None:
        """Apply the batch to the store, then forget the children it changed (before and after: a read in
        between is not kept)."""
        children = {i.event.data.child_id for i in batch}
        self._forget(children)
        try:
            await self._store.on_account_events(batch)
        finally:
            self._forget(children)

    async def on_dead_letter(self, record: ConsumerRecord[Any, Any], reason: str) -> None:
        try:
            await self._store.on_dead_letter(record, reason)
        finally:
            if isinstance(record.key, bytes):
                self._forget({record.key.decode(errors="replace")})

    def _forget(self, children: set[str]) -> None:
        for child_id in children:
            self._kept.pop(child_id, None)
            self._generation[child_id] = self._generation.get(child_id, 0) + 1
