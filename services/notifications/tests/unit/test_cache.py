"""What is kept in memory to save round trips, and why it stays correct: the access snapshots are dropped when
this process applies a change (a read racing the change never puts its older answer back), a stale one is
never kept; a pattern signal whose bucket is held is skipped without reading the store."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from notifications.cache import CachedSnapshots
from notifications.pattern import PatternWatch, Signal
from shared.access import SnapshotStale
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


class SignalCounter:
    def __init__(self) -> None:
        self.kept: dict[tuple[str, str], Signal] = {}
        self.reads = 0

    async def add_signals(self, signals: Sequence[Signal]) -> None:
        for s in signals:
            self.kept.setdefault((s.child_id, s.key), s)

    async def signals_of(self, child_ids: Sequence[str]) -> list[Signal]:
        self.reads += 1
        return [s for s in self.kept.values() if s.child_id in child_ids]


async def test_a_signal_whose_agency_and_day_are_held_is_skipped_without_a_read() -> None:
    store = SignalCounter()
    watch = PatternWatch(store, agencies=3, window_days=14)
    first = Signal("school:1", "c1", "school", NOW)

    assert await watch.observe([first]) == []
    assert await watch.observe([Signal("school:2", "c1", "school", NOW)]) == []
    assert store.reads == 1  # the second signal's bucket was held: no read

    await watch.observe([first])  # a redelivery of the holder is looked at again
    assert store.reads == 2
    fired = await watch.observe(
        [Signal("health:1", "c1", "health", NOW), Signal("police:1", "c1", "police", NOW)]
    )
    assert [s.key for s in fired] == ["police:1"]
