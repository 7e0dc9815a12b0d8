"""Access snapshots kept in memory to save round trips, and why that stays correct: they are dropped when this
process applies a change (a read racing the change never puts its older answer back), a stale one is never
kept, and only a child whose events this process's consumer applies is kept past the short bound."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import TopicPartition

from shared.access import SnapshotStale
from shared.access_cache import CachedSnapshots
from shared.contracts.accounts import Actor, MemberLeft, account_event
from shared.kafka.consumer import Incoming
from shared.policy import ChildAccess, Principal
from testsupport.events import account_opened, new_nhs_number
from testsupport.memory import MemoryAccessSnapshots

LEAD = "lead-1"
NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)


class CountingSnapshots(MemoryAccessSnapshots):
    """The in-memory snapshots, counting reads; `gate` holds a read until it is set."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0
        self.gate: asyncio.Event | None = None

    async def get(self, child_id: str) -> ChildAccess | None:
        self.reads += 1
        found = await super().get(child_id)
        if self.gate is not None:
            await self.gate.wait()
        return found


def _incoming(events: Sequence[Any]) -> list[Incoming[Any]]:
    return [Incoming("accounts.events", 0, n, e) for n, e in enumerate(events)]


async def _opened(store: CountingSnapshots, cache: CachedSnapshots) -> str:
    child = new_nhs_number()
    await cache.on_account_events(_incoming(account_opened(child, lead_id=LEAD)))
    return child


async def test_a_snapshot_is_read_once_then_answered_from_memory_until_a_change_is_applied() -> None:
    store = CountingSnapshots()
    cache = CachedSnapshots(store, ttl_s=60)
    child = await _opened(store, cache)
    lead = Principal(subject=LEAD, name="Lead", kind="practitioner")

    for _ in range(3):
        assert (await cache.decide(lead, "read_chronology", child)).allowed
    assert store.reads == 1

    actor = Actor(person_id=LEAD, name="Lead", kind="practitioner")
    left = MemberLeft(child_id=child, seq=2, actor=actor, at=NOW, person_id="nobody")
    await cache.on_account_events(_incoming([account_event(left)]))
    await cache.get(child)
    assert store.reads == 2  # the change dropped what was kept


async def test_a_read_that_raced_a_change_is_not_kept() -> None:
    store = CountingSnapshots()
    cache = CachedSnapshots(store, ttl_s=60)
    child = await _opened(store, cache)
    gate = store.gate = asyncio.Event()
    slow = asyncio.create_task(cache.get(child))  # reads the snapshot as it was before the change
    for _ in range(3):
        await asyncio.sleep(0)
    store.gate = None
    actor = Actor(person_id=LEAD, name="Lead", kind="practitioner")
    left = MemberLeft(child_id=child, seq=2, actor=actor, at=NOW, person_id="nobody")
    await cache.on_account_events(_incoming([account_event(left)]))  # applied while that read is in flight
    gate.set()
    await slow
    reads = store.reads
    await cache.get(child)
    assert store.reads == reads + 1  # the older answer was not kept


async def test_a_stale_snapshot_is_never_kept() -> None:
    store = CountingSnapshots()
    cache = CachedSnapshots(store, ttl_s=60)
    child = await _opened(store, cache)
    store.stale[child] = "rebuilding after a missed change"
    for _ in range(2):
        with pytest.raises(SnapshotStale):
            await cache.get(child)
    assert store.reads == 2


async def test_a_child_whose_partition_this_process_consumes_is_kept_past_the_short_bound() -> None:
    store = CountingSnapshots()
    counted: list[int] = []

    async def partitions() -> list[int]:
        counted.append(1)
        return [0, 1, 2]

    cache = CachedSnapshots(store, ttl_s=0, owned_ttl_s=60, topic="accounts.events", partitions=partitions)
    children = [await _opened(store, cache) for _ in range(12)]
    listener = cache.rebalance_listener
    assert listener is not None
    await listener.on_partitions_assigned({TopicPartition("accounts.events", 1), TopicPartition("other", 0)})
    while len({cache.owns(c) for c in children}) < 2 and len(children) < 100:  # random ids: both kinds
        children.append(await _opened(store, cache))
    owned = [c for c in children if cache.owns(c)]
    others = [c for c in children if not cache.owns(c)]
    assert owned and others
    store.reads = 0
    assert counted == [1]

    for _ in range(3):
        for child in children:
            await cache.get(child)
    # An owned child is read once; another child (ttl 0: another replica may change it) every time.
    assert store.reads == len(owned) + 3 * len(others)

    await listener.on_partitions_revoked({TopicPartition("accounts.events", 1)})
    assert not any(cache.owns(c) for c in children)
    reads = store.reads
    await cache.get(owned[0])
    assert store.reads == reads + 1  # what was kept under the old assignment is read again


async def test_when_the_partitions_cannot_be_counted_nothing_is_treated_as_owned() -> None:
    store = CountingSnapshots()

    async def broker_away() -> list[int]:
        raise ConnectionError("no broker")

    cache = CachedSnapshots(store, ttl_s=0, owned_ttl_s=60, topic="accounts.events", partitions=broker_away)
    child = await _opened(store, cache)
    listener = cache.rebalance_listener
    assert listener is not None
    await listener.on_partitions_assigned({TopicPartition("accounts.events", p) for p in range(3)})
    assert not cache.owns(child)
    await cache.get(child)
    await cache.get(child)
    assert store.reads == 2
    assert CachedSnapshots(store, ttl_s=1).rebalance_listener is None  # no way to count: never owned
