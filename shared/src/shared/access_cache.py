"""The children's access snapshots, kept in memory in front of the store: every request about a child asks who
may see them (a child's page makes five such requests of the services keeping snapshots, and the forum asks
again for what it offers), and in notifications a round trip to FerretDB for each was most of the time between
an event and its notification.

Correct because the events that change a snapshot pass through here: this process's consumer of
`accounts.events` applies a batch to the store, then drops the children it named, and a read that started
before the drop never puts its older answer back (a generation per child, and an epoch for every rebalance).

- A child on a partition of `accounts.events` this process consumes (`rebalance_listener` tells which, from the
  consumer group's assignment) sees every change of theirs pass through here, so what is kept is what the
  store holds: it is kept up to `owned_ttl_s`, a bound for a consumer that stopped without being told.
- Any other child (another replica consumes their partition) is kept `ttl_s`: a change another replica
  applied is seen that late.
- A stale snapshot (`SnapshotStale`) and an unknown child are never kept: both are asked again every time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from aiokafka import ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from aiokafka.partitioner import DefaultPartitioner

from shared.access import SnapshotStore
from shared.contracts.accounts import AccountEvent
from shared.events import Envelope
from shared.kafka.consumer import Incoming
from shared.policy import Action, ChildAccess, Decision, Principal, decide

log = logging.getLogger(__name__)

Partitions = Callable[[], Awaitable[list[int]]]
PARTITIONS_TIMEOUT_S = 10.0


class CachedSnapshots:
    """A `SnapshotStore` that answers from memory, for at most `size` children, what it read within `ttl_s`
    (`owned_ttl_s` for a child whose partition this process consumes)."""

    def __init__(
        self,
        store: SnapshotStore,
        *,
        ttl_s: float,
        owned_ttl_s: float | None = None,
        topic: str = "",
        partitions: Partitions | None = None,
        size: int = 10_000,
    ) -> None:
        self._store = store
        self._ttl_s = ttl_s
        self._owned_ttl_s = ttl_s if owned_ttl_s is None else owned_ttl_s
        self._size = size
        self._kept: OrderedDict[str, tuple[float, int, ChildAccess]] = OrderedDict()
        self._generation: dict[str, int] = {}
        self._epoch = 0  # every rebalance: what was kept under the old assignment is read again
        self._owned: frozenset[int] = frozenset()
        self._all: list[int] = []
        self._topic = topic
        self._partitions = partitions
        self._partitioner = DefaultPartitioner()

    @property
    def rebalance_listener(self) -> ConsumerRebalanceListener | None:
        """For the subscription to `accounts.events` that feeds `on_account_events` (None: every child is kept
        `ttl_s`, as when it could not be told which partitions are this process's)."""
        return None if self._partitions is None else _Assignment(self)

    async def create_indexes(self) -> None:
        await self._store.create_indexes()

    async def get(self, child_id: str) -> ChildAccess | None:
        kept = self._kept.get(child_id)
        if kept is not None and kept[1] == self._epoch:
            read_at, _, known = kept
            if time.monotonic() - read_at < (self._owned_ttl_s if self.owns(child_id) else self._ttl_s):
                self._kept.move_to_end(child_id)
                return known
        generation, epoch = self._generation.get(child_id, 0), self._epoch
        read_at = time.monotonic()
        access = await self._store.get(child_id)  # SnapshotStale propagates: never kept
        if access is not None and self._generation.get(child_id, 0) == generation and self._epoch == epoch:
            self._kept[child_id] = (read_at, epoch, access)
            self._kept.move_to_end(child_id)
            while len(self._kept) > self._size:
                self._kept.popitem(last=False)
        return access

    def owns(self, child_id: str) -> bool:
        """Whether this process's consumer applies the child's account events (their partition is assigned)."""
        if not self._owned:
            return False
        key = child_id.encode()
        return self._partitioner(key, self._all, self._all) in self._owned

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

    def _reassigned(self, owned: frozenset[int], every: list[int]) -> None:
        self._epoch += 1
        self._kept.clear()
        self._owned, self._all = owned, every

    async def _assigned(self, assigned: set[TopicPartition]) -> None:
        self._reassigned(frozenset(), [])  # nothing is owned until the partition count is known
        if self._partitions is None:
            return
        owned = frozenset(tp.partition for tp in assigned if tp.topic == self._topic)
        if not owned:
            return
        try:
            # Bounded: the consumer's rebalance (and its leaving the group at stop) waits for this listener.
            async with asyncio.timeout(PARTITIONS_TIMEOUT_S):
                every = sorted(await self._partitions())
        except Exception as err:  # not knowing the count, nothing is treated as owned: kept ttl_s only
            log.warning("could not count the partitions of %s: %s", self._topic, err)
            return
        self._reassigned(owned, every)


class _Assignment(ConsumerRebalanceListener):  # type: ignore[misc]
    """Tells the cache which partitions of `accounts.events` this process's consumer holds."""

    def __init__(self, cache: CachedSnapshots) -> None:
        self._cache = cache

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        self._cache._reassigned(frozenset(), [])  # another member may apply them from now on

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        await self._cache._assigned(assigned)
