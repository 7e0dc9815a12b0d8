"""A burst of records, published a few milliseconds apart as a page's audit records are (its sections answer
over tens of milliseconds), reaches a gathering subscriber as one or two batches on the real broker, and as
many batches without it."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry

from devstack.infra import Endpoints
from shared.kafka.broker import event_key
from shared.kafka.consumer import (
    BatchProcessor,
    ConsumerMetrics,
    Gather,
    Incoming,
    RetryPolicy,
    subscribe_batches,
)
from shared.kafka.deadletter import DeadLetters
from shared.topics import ensure_topics

pytestmark = pytest.mark.integration
BURST = 20
SPACING_S = 0.005


async def batches_of_a_burst(infra: Endpoints, suffix: str, gather: Gather | None) -> list[int]:
    """The sizes of the batches a burst of BURST records on one key arrived in."""
    topic = f"test.gather.{suffix}"
    await ensure_topics(infra.kafka_bootstrap, {topic: 1}, credentials=infra.kafka_admin)
    sizes: list[int] = []
    warmed, arrived = asyncio.Event(), asyncio.Event()

    async def handle(batch: Sequence[Incoming[str]]) -> None:
        if not warmed.is_set():  # the warm-up record, alone on the partition
            warmed.set()
            return
        sizes.append(len(batch))
        if sum(sizes) >= BURST:
            arrived.set()

    broker = KafkaBroker(infra.kafka_bootstrap, security=infra.kafka_admin.faststream(), logger=None)
    subscribe_batches(
        broker,
        [topic],
        group_id=f"test-gather-{suffix}",
        max_records=1000,
        title="gathering test",
        gather=gather,
        processor=BatchProcessor(
            decode=lambda _topic, value: value.decode(),
            handle=handle,
            dead_letters=DeadLetters(broker, consumer_group=f"test-gather-{suffix}"),
            retry=RetryPolicy(attempts=1, backoff_s=0.0),
            metrics=ConsumerMetrics.create(CollectorRegistry()),
        ),
    )
    await broker.start()
    try:
        # Once the warm-up record is handled the consumer is fetching and waiting on an empty partition, as
        # the audit consumer does between pages.
        await broker.publish(b"warm-up", topic, key=event_key("child"))
        async with asyncio.timeout(60):
            await warmed.wait()
        for n in range(BURST):
            await broker.publish(f"record {n}".encode(), topic, key=event_key("child"))
            await asyncio.sleep(SPACING_S)
        async with asyncio.timeout(60):
            await arrived.wait()
    finally:
        await broker.stop()
    return sizes


async def test_a_gathering_subscriber_takes_a_burst_in_one_or_two_batches(
    infra: Endpoints, topic_suffix: str
) -> None:
    gathered = await batches_of_a_burst(
        infra, f"on-{topic_suffix}", Gather(min_bytes=256 * 1024, max_wait_ms=500)
    )
    assert sum(gathered) == BURST
    assert len(gathered) <= 2, gathered


async def test_without_gathering_the_same_burst_comes_in_many_batches(
    infra: Endpoints, topic_suffix: str
) -> None:
    # The contrast that shows the test above measures the setting, not the way the records were published.
    ungathered = await batches_of_a_burst(infra, f"off-{topic_suffix}", None)
    assert sum(ungathered) == BURST
    assert len(ungathered) > 4, ungathered
