"""Replaying topics through a feed's own handler, between offsets fixed in advance.

The replay reads with a plain consumer in no group (so no live group's offsets move), hands each batch to the
same `BatchProcessor` the live subscriber uses (decoding record by record, retries, isolating a poison event),
and stops each partition at its end offset. What the live consumer dead-lettered is counted, not sent again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from prometheus_client import CollectorRegistry

from shared.kafka.auth import KafkaCredentials
from shared.kafka.consumer import BatchProcessor, ConsumerMetrics, RetryPolicy
from shared.readmodel import Feed

Offsets = dict[TopicPartition, int]


@dataclass
class Skipped:
    """What a replay's processor would have dead-lettered, by reason."""

    reasons: dict[str, int] = field(default_factory=dict)

    async def send(self, record: ConsumerRecord[Any, Any], *, reason: str, attempts: int) -> None:
        key = reason.split(":", 1)[0]
        self.reasons[key] = self.reasons.get(key, 0) + 1

    @property
    def total(self) -> int:
        return sum(self.reasons.values())


@dataclass
class Kafka:
    """Where the topics are and who reads them: the service's own broker user."""

    bootstrap: str
    credentials: KafkaCredentials

    def consumer(self, **kwargs: Any) -> AIOKafkaConsumer:
        return AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            enable_auto_commit=False,
            auto_offset_reset="earliest",  # an offset retention has deleted: from the oldest one kept
            **self.credentials.aiokafka(),
            **kwargs,
        )

    async def partitions(self, topics: Iterable[str]) -> list[TopicPartition]:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap, **self.credentials.aiokafka())
        await admin.start()
        try:
            described = await admin.describe_topics(sorted(set(topics)))
        finally:
            await admin.close()
        return sorted(
            TopicPartition(t["topic"], p["partition"]) for t in described for p in t.get("partitions", ())
        )

    async def end_offsets(self, partitions: Sequence[TopicPartition]) -> Offsets:
        if not partitions:
            return {}
        consumer = self.consumer()
        await consumer.start()
        try:
            return dict(await consumer.end_offsets(list(partitions)))
        finally:
            await consumer.stop()

    async def beginning_offsets(self, partitions: Sequence[TopicPartition]) -> Offsets:
        if not partitions:
            return {}
        consumer = self.consumer()
        await consumer.start()
        try:
            return dict(await consumer.beginning_offsets(list(partitions)))
        finally:
            await consumer.stop()

    async def committed(self, group: str, partitions: Sequence[TopicPartition]) -> Offsets:
        """The live group's committed offsets (0 where it has committed nothing)."""
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap, **self.credentials.aiokafka())
        await admin.start()
        try:
            found = await admin.list_consumer_group_offsets(group)
        finally:
            await admin.close()
        out: Offsets = {}
        for tp in partitions:
            meta = found.get(tp)
            out[tp] = meta.offset if meta is not None and meta.offset >= 0 else 0
        return out


def processor_for(feed: Feed, skipped: Skipped, retry: RetryPolicy) -> BatchProcessor[Any]:
    return BatchProcessor(
        decode=feed.decode,
        handle=feed.handle,
        dead_letters=skipped,
        retry=retry,
        metrics=ConsumerMetrics.create(CollectorRegistry()),
    )


async def replay(
    kafka: Kafka,
    processor: BatchProcessor[Any],
    *,
    start: Mapping[TopicPartition, int],
    end: Mapping[TopicPartition, int],
    batch: int,
    advance: Callable[[int], None],
) -> int:
    """Hand every record in [start, end) of each partition to `processor`, in batches of up to `batch` (each
    partition in order, as the live subscriber gets them); returns how many records were replayed."""
    todo = {tp: end[tp] for tp in end if end[tp] > start.get(tp, 0)}
    if not todo:
        return 0
    consumer = kafka.consumer(max_poll_records=batch, fetch_max_bytes=64 * 1024 * 1024)
    await consumer.start()
    done = 0
    try:
        consumer.assign(list(todo))
        for tp in todo:
            consumer.seek(tp, start.get(tp, 0))
        while todo:
            fetched = await consumer.getmany(timeout_ms=1000, max_records=batch)
            records: list[ConsumerRecord[Any, Any]] = []
            for tp, got in fetched.items():
                if tp not in todo:
                    continue
                stop = todo[tp]
                records.extend(r for r in got if r.offset < stop)
                if got and got[-1].offset >= stop - 1:
                    del todo[tp]
                    consumer.pause(tp)
            if records:
                await processor.process(records)
                done += len(records)
                advance(len(records))
            for tp in list(todo):  # a partition whose end lies past compacted or aborted records
                if await consumer.position(tp) >= todo[tp]:
                    del todo[tp]
                    consumer.pause(tp)
        return done
    finally:
        await consumer.stop()
