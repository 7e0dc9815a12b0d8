"""The in-memory access snapshots on the real broker: FastStream tells the cache which partitions of the topic
its consumer group gave this process, and the cache's idea of a child's partition is the partition the
services' own producer put the child's events on (murmur2 of the key, as in every Kafka client)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiokafka import TopicPartition
from faststream.kafka import KafkaBroker, KafkaMessage

from devstack.infra import Endpoints
from shared.access_cache import CachedSnapshots
from shared.kafka.broker import event_key
from shared.topics import ensure_topics
from testsupport.memory import MemoryAccessSnapshots

pytestmark = pytest.mark.integration
PARTITIONS = 3


async def test_the_cache_owns_exactly_the_children_on_the_partitions_its_consumer_was_given(
    infra: Endpoints, topic_suffix: str
) -> None:
    topic = f"test.access-cache.{topic_suffix}"
    await ensure_topics(infra.kafka_bootstrap, {topic: PARTITIONS}, credentials=infra.kafka_admin)

    async def partitions() -> list[int]:
        return list(range(PARTITIONS))

    cache = CachedSnapshots(
        MemoryAccessSnapshots(), ttl_s=0, owned_ttl_s=60, topic=topic, partitions=partitions
    )
    children = [f"child-{topic_suffix}-{n}" for n in range(30)]
    landed: dict[str, int] = {}
    all_landed = asyncio.Event()
    broker = KafkaBroker(infra.kafka_bootstrap, security=infra.kafka_admin.faststream(), logger=None)
    subscriber = broker.subscriber(
        topic,
        group_id=f"test-access-cache-{topic_suffix}",
        auto_offset_reset="earliest",
        listener=cache.rebalance_listener,
    )

    @subscriber
    async def record(body: Any, msg: KafkaMessage) -> None:
        landed[msg.raw_message.key.decode()] = msg.raw_message.partition  # type: ignore[union-attr]
        if len(landed) == len(children):
            all_landed.set()

    await broker.start()
    try:
        for child in children:
            await broker.publish(b"{}", topic, key=event_key(child))
        async with asyncio.timeout(60):
            await all_landed.wait()
        assert len(set(landed.values())) > 1  # thirty keys spread over the partitions
        # The only member of its group: FastStream passed on an assignment of every partition.
        assert all(cache.owns(child) for child in children)

        listener = cache.rebalance_listener
        assert listener is not None
        # As a second replica joining the group would leave it:
        await listener.on_partitions_assigned({TopicPartition(topic, 1)})
        assert {c for c in children if cache.owns(c)} == {c for c, p in landed.items() if p == 1}
    finally:
        await broker.stop()
