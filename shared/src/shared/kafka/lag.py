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
        self._clients: tuple[AIOKafkaAdminClient, AIOKafkaConsumer] | None = None

    async def measure(self) -> int:
        """Measure lag once, update the gauge, return the total."""
        admin, consumer = await self._connected()
        try:
            committed = await admin.list_consumer_group_offsets(self._group)
            described = await admin.describe_topics(self._topics)
            partitions = [
                TopicPartition(t["topic"], p["partition"]) for t in described for p in t.get("partitions", ())
            ]
            ends = await consumer.end_offsets(partitions) if partitions else {}
        except BaseException:
            await self.close()  # the next measurement starts from fresh connections
            raise
        total = 0
        for tp, end in ends.items():
            done = committed.get(tp)
            lag = max(0, end - (done.offset if done is not None and done.offset >= 0 else 0))
            self._gauge.labels(self._group, tp.topic, str(tp.partition)).set(lag)
            total += lag
        self.total = total
        return total

    async def _connected(self) -> tuple[AIOKafkaAdminClient, AIOKafkaConsumer]:
        # Kept open between measurements: each new connection costs a SCRAM handshake (PBKDF2, 8,192
        # rounds), which opened every 10 s per group showed up in every service's profile under page load.
        if self._clients is None:
            auth = self._credentials.aiokafka()
            admin = AIOKafkaAdminClient(bootstrap_servers=self._bootstrap, **auth)
            consumer = AIOKafkaConsumer(bootstrap_servers=self._bootstrap, enable_auto_commit=False, **auth)
            try:
                await admin.start()
                await consumer.start()
            except BaseException:
                await consumer.stop()
                await admin.close()
                raise
            self._clients = (admin, consumer)
        return self._clients

    async def close(self) -> None:
        clients, self._clients = self._clients, None
        if clients is not None:
            admin, consumer = clients
            await consumer.stop()
            await admin.close()

    async def run(self) -> None:
        """Measure every `every_s` until cancelled (run as a background task of the service)."""
        try:
            while True:
                try:
                    await self.measure()
                except (
                    Exception
                ) as err:  # lag is a diagnostic: failing to measure it must not stop the service
                    log.warning("could not measure consumer lag: %s", err)
                await asyncio.sleep(self._every)
        finally:
            await self.close()
