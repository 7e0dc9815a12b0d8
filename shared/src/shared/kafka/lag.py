"""A consumer-lag gauge per (group, topic, partition): how far the group's commits trail the log's end."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from prometheus_client import CollectorRegistry, Gauge

from shared.kafka.auth import KafkaCredentials

log = logging.getLogger(__name__)


def lag_gauge(registry: CollectorRegistry) -> Gauge:
    """The one lag gauge of a process; every monitor in it sets its own group's labels."""
    return Gauge(
        "sg_consumer_lag",
        "Records not yet committed by the group",
        ["group", "topic", "partition"],
        registry=registry,
    )


class LagMonitor:
    def __init__(
        self,
        bootstrap: str,
        *,
        credentials: KafkaCredentials,
        group: str,
        topics: Sequence[str],
        gauge: Gauge | None = None,
        every_s: float = 10.0,
    ) -> None:
        self._bootstrap = bootstrap
        self._credentials = credentials
        self._group = group
        self._topics = list(topics)
        self._every = every_s
        self._gauge = gauge or lag_gauge(CollectorRegistry())
        self.total: int | None = None

    async def measure(self) -> int:
        """Measure lag once, update the gauge, return the total."""
        auth = self._credentials.aiokafka()
        admin = AIOKafkaAdminClient(bootstrap_servers=self._bootstrap, **auth)
        consumer = AIOKafkaConsumer(bootstrap_servers=self._bootstrap, enable_auto_commit=False, **auth)
        await admin.start()
        await consumer.start()
        try:
            committed = await admin.list_consumer_group_offsets(self._group)
            described = await admin.describe_topics(self._topics)
            partitions = [
                TopicPartition(t["topic"], p["partition"]) for t in described for p in t.get("partitions", ())
            ]
            ends = await consumer.end_offsets(partitions) if partitions else {}
            total = 0
            for tp, end in ends.items():
                done = committed.get(tp)
                lag = max(0, end - (done.offset if done is not None and done.offset >= 0 else 0))
                self._gauge.labels(self._group, tp.topic, str(tp.partition)).set(lag)
                total += lag
            self.total = total
            return total
        finally:
            await consumer.stop()
            await admin.close()

    async def run(self) -> None:
        """Measure every `every_s` until cancelled (run as a background task of the service)."""
        while True:
            try:
                await self.measure()
            except Exception as err:  # lag is a diagnostic: failing to measure it must not stop the service
                log.warning("could not measure consumer lag: %s", err)
            await asyncio.sleep(self._every)
