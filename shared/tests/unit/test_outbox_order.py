"""The outbox relay publishes different children's entries side by side and each child's strictly in order;
an outage in one child's entries stops only what would overtake it, and what did reach the broker is marked."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from prometheus_client import CollectorRegistry

from shared.outbox import OutboxMessage, OutboxMetrics, OutboxRelay, Pending


def _entry(child: str, n: int) -> Pending:
    message = OutboxMessage(
        topic="t", key=child.encode(), value=f"{child}{n}".encode(), headers={}, correlation_id=f"{child}{n}"
    )
    return Pending(id=f"{child}{n}", messages=[message], child_id=child)


class MemoryOutbox:
    name = "test"

    def __init__(self, entries: Sequence[Pending]) -> None:
        self.entries = list(entries)
        self.published: list[str] = []

    async def pending(self, *, limit: int) -> Sequence[Pending]:
        return [e for e in self.entries if e.id not in self.published][:limit]

    async def mark_published(self, entries: Sequence[Pending]) -> None:
        self.published += [str(e.id) for e in entries]

    async def set_aside(self, entry: Pending, reason: str) -> None:
        raise AssertionError("nothing here is set aside")


def _relay(outbox: MemoryOutbox, publish: object) -> OutboxRelay:
    return OutboxRelay(outbox, publish, OutboxMetrics.create(CollectorRegistry()))  # type: ignore[arg-type]


async def test_two_childrens_entries_are_published_side_by_side() -> None:
    outbox = MemoryOutbox([_entry("a", 1), _entry("b", 1)])
    started: dict[str, asyncio.Event] = {"a1": asyncio.Event(), "b1": asyncio.Event()}

    async def publish(message: OutboxMessage) -> None:
        started[message.correlation_id].set()
        other = "b1" if message.correlation_id == "a1" else "a1"
        await started[other].wait()  # one after another, neither would ever be acknowledged

    assert await asyncio.wait_for(_relay(outbox, publish).run_once(), 2) == 2
    assert sorted(outbox.published) == ["a1", "b1"]


async def test_each_childs_entries_go_one_after_another_in_order() -> None:
    outbox = MemoryOutbox([_entry(c, n) for n in range(1, 4) for c in "ab"])
    events: list[str] = []

    async def publish(message: OutboxMessage) -> None:
        events.append(f"start {message.correlation_id}")
        await asyncio.sleep(0.01)
        events.append(f"ack {message.correlation_id}")

    assert await _relay(outbox, publish).run_once() == 6
    for child in "ab":
        mine = [e for e in events if e.endswith(child + "1") or e[-2] == child]
        assert mine == [f"{step} {child}{n}" for n in range(1, 4) for step in ("start", "ack")]


async def test_an_outage_stops_only_what_would_overtake_it() -> None:
    outbox = MemoryOutbox([_entry("a", 1), _entry("a", 2), _entry("a", 3), _entry("b", 1), _entry("b", 2)])
    sent: list[str] = []

    async def publish(message: OutboxMessage) -> None:
        if message.correlation_id == "a2":
            raise ConnectionError("the broker is away")
        sent.append(message.correlation_id)

    with pytest.raises(ConnectionError):
        await _relay(outbox, publish).run_once()
    assert "a3" not in sent  # a3 never overtakes a2
    assert sorted(outbox.published) == ["a1", "b1", "b2"]
    assert [e.id for e in await outbox.pending(limit=10)] == ["a2", "a3"]
