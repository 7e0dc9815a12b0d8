"""The consumer's retry and dead-letter rules, with a fake dead-letter sink (no broker)."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiokafka import ConsumerRecord
from prometheus_client import CollectorRegistry

from shared.kafka.consumer import BatchProcessor, ConsumerMetrics, Incoming, Rejected, RetryPolicy


@dataclass
class FakeDeadLetters:
    sent: list[tuple[bytes, str, int]] = field(default_factory=list)

    async def send(self, record: ConsumerRecord[Any, Any], *, reason: str, attempts: int) -> None:
        self.sent.append((record.value, reason, attempts))


def record(offset: int, value: bytes) -> ConsumerRecord[Any, Any]:
    return ConsumerRecord("contacts.school", 0, offset, 0, 0, b"k", value, None, len(value), len(value), [])


def decode(topic: str, value: bytes) -> str:
    text = value.decode()
    if text.startswith("bad"):
        raise ValueError(f"cannot read {text}")
    return text


def processor(handle: Any, dead: FakeDeadLetters) -> BatchProcessor[str]:
    return BatchProcessor(
        decode=decode,
        handle=handle,
        dead_letters=dead,
        retry=RetryPolicy(attempts=3, backoff_s=0.0),
        metrics=ConsumerMetrics.create(CollectorRegistry()),
    )


async def test_undecodable_records_are_dead_lettered_and_the_rest_handled_together() -> None:
    handled: list[list[str]] = []

    async def handle(batch: Sequence[Incoming[str]]) -> None:
        handled.append([i.event for i in batch])

    dead = FakeDeadLetters()
    await processor(handle, dead).process([record(1, b"a"), record(2, b"bad-1"), record(3, b"b")])
    assert handled == [["a", "b"]]
    assert dead.sent == [(b"bad-1", "ValueError: cannot read bad-1", 1)]


async def test_a_transient_failure_is_retried_and_then_succeeds_without_dead_letters() -> None:
    calls = 0

    async def handle(batch: Sequence[Incoming[str]]) -> None:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise RuntimeError("flaky")

    dead = FakeDeadLetters()
    await processor(handle, dead).process([record(1, b"a")])
    assert calls == 3
    assert dead.sent == []


async def test_a_poison_event_is_isolated_and_dead_lettered_while_its_batch_mates_are_stored() -> None:
    stored: set[str] = set()

    async def handle(batch: Sequence[Incoming[str]]) -> None:
        if any(i.event == "poison" for i in batch):
            raise RuntimeError("cannot store poison")
        stored.update(i.event for i in batch)

    dead = FakeDeadLetters()
    await processor(handle, dead).process([record(1, b"a"), record(2, b"poison"), record(3, b"b")])
    assert stored == {"a", "b"}
    assert dead.sent == [(b"poison", "RuntimeError: cannot store poison", 4)]


async def test_a_rejected_event_is_dead_lettered_with_the_handlers_reason_at_once() -> None:
    calls = 0

    async def handle(batch: Sequence[Incoming[str]]) -> None:
        nonlocal calls
        calls += 1
        if any(i.event == "nope" for i in batch):
            raise Rejected("not allowed")

    dead = FakeDeadLetters()
    await processor(handle, dead).process([record(1, b"nope"), record(2, b"ok")])
    assert dead.sent == [(b"nope", "not allowed", 1)]
    assert calls == 3  # the batch once, then each event alone


async def test_an_outage_is_never_dead_lettered_but_raised_for_redelivery() -> None:
    async def handle(batch: Sequence[Incoming[str]]) -> None:
        raise ConnectionError("database unreachable")

    dead = FakeDeadLetters()
    with pytest.raises(ConnectionError):
        await processor(handle, dead).process([record(1, b"a")])
    assert dead.sent == []


async def test_an_oversized_record_is_dead_lettered_without_decoding() -> None:
    async def handle(batch: Sequence[Incoming[str]]) -> None:
        raise AssertionError("must not be called")

    dead = FakeDeadLetters()
    await processor(handle, dead).process([record(1, b"x" * 300_000)])
    assert len(dead.sent) == 1
    assert "the limit is" in dead.sent[0][1]
