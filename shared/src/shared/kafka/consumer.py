"""Batch consumers that lose nothing: commit after success, retry with backoff, dead-letter the rest.

Why batches: one commit per message caps a consumer at ~160 msg/s on this broker; one commit per batch
reaches tens of thousands (KAFKA-NOTES.md, "Throughput"). Why this shape: FastStream 0.7.8 has no retries
or dead letters for Kafka, and a batch handler that raises gets the whole batch redelivered, so:

1. each record is decoded and validated alone; a bad one goes to `<topic>.deadletter` with its reason (one
   the decoder says is not for this consumer, `NotForThisConsumer`, is passed over and committed);
2. the valid ones are handled together; a failure is retried with exponential backoff, `attempts` times;
3. still failing: each event is retried alone, and the ones that fail alone are dead-lettered with the
   error and the attempt count, so one poison event cannot block its partition;
4. except when the database or broker is unreachable: dead-lettering a whole outage would be wrong, so the
   batch is left uncommitted and redelivered (with backoff) until the dependency is back.

The subscriber uses `AckPolicy.NACK_ON_ERROR`: a normal return commits the batch; an exception seeks back
to it. A crash between the write and the commit redelivers the batch, so handlers must be idempotent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from aiokafka import ConsumerRebalanceListener, ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage
from prometheus_client import CollectorRegistry, Counter, Histogram
from pymongo.errors import ConnectionFailure
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_not_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from shared.events import MAX_EVENT_BYTES, NotForThisConsumer
from shared.logs import correlation_id

T = TypeVar("T")
log = logging.getLogger(__name__)


class Rejected(Exception):
    """A permanent problem with one event (invalid, not allowed): it is dead-lettered with this reason."""


@dataclass(frozen=True)
class Incoming(Generic[T]):
    """A decoded event with the coordinates of the record it came from."""

    topic: str
    partition: int
    offset: int
    event: T


Decoder = Callable[[str, bytes], T]
BatchHandler = Callable[[Sequence[Incoming[T]]], Awaitable[None]]
# Told of each record sent to the dead-letter topic, with the reason (the access snapshots mark the child stale).
DeadLetterHook = Callable[[ConsumerRecord[Any, Any], str], Awaitable[None]]


class DeadLetterSink(Protocol):
    """Where a consumer sends what it gives up on: `DeadLetters` live; a rebuild's replay only counts them,
    since the live consumer dead-lettered them already."""

    async def send(self, record: ConsumerRecord[Any, Any], *, reason: str, attempts: int) -> None: ...


# Faults that mean "a dependency is away", not "this event is bad": never dead-letter for these.
OUTAGES: tuple[type[BaseException], ...] = (ConnectionFailure, ConnectionError, asyncio.TimeoutError)


@dataclass
class ConsumerMetrics:
    dead_lettered: Counter
    retried: Counter
    batch_size: Histogram
    batch_seconds: Histogram

    @classmethod
    def create(cls, registry: CollectorRegistry) -> ConsumerMetrics:
        return cls(
            dead_lettered=Counter(
                "sg_events_dead_lettered",
                "Events sent to a dead-letter topic",
                ["topic", "stage"],
                registry=registry,
            ),
            retried=Counter(
                "sg_batch_retries", "Handler retries after a failure", ["topic"], registry=registry
            ),
            batch_size=Histogram(
                "sg_batch_records",
                "Records per consumed batch",
                registry=registry,
                buckets=(1, 10, 50, 100, 250, 500, 1000, 2000, 5000),
            ),
            batch_seconds=Histogram("sg_batch_seconds", "Time to process one batch", registry=registry),
        )


@dataclass
class RetryPolicy:
    attempts: int = 4
    backoff_s: float = 0.2
    max_backoff_s: float = 10.0


class BatchProcessor(Generic[T]):
    """Steps 1-4 above for one subscriber; independent of FastStream so it is unit-testable."""

    def __init__(
        self,
        *,
        decode: Decoder[T],
        handle: BatchHandler[T],
        dead_letters: DeadLetterSink,
        retry: RetryPolicy,
        metrics: ConsumerMetrics,
        on_dead_letter: DeadLetterHook | None = None,
    ) -> None:
        self._on_dead_letter = on_dead_letter
        self._decode = decode
        self._handle = handle
        self._dead = dead_letters
        self._retry = retry
        self._metrics = metrics

    async def process(self, records: Sequence[ConsumerRecord[Any, Any]]) -> None:
        self._metrics.batch_size.observe(len(records))
        with self._metrics.batch_seconds.time():
            await self._process(records)

    async def _process(self, records: Sequence[ConsumerRecord[Any, Any]]) -> None:
        valid: list[tuple[ConsumerRecord[Any, Any], Incoming[T]]] = []
        for record in records:
            value: bytes = record.value or b""
            try:
                if len(value) > MAX_EVENT_BYTES:
                    raise Rejected(f"event is {len(value)} bytes; the limit is {MAX_EVENT_BYTES}")
                event = self._decode(record.topic, value)
            except NotForThisConsumer:
                continue
            except Exception as err:  # every decoding failure is this record's fault: dead-letter it
                await self._dead_letter(record, _reason(err), attempts=1, stage="decode")
                continue
            valid.append((record, Incoming(record.topic, record.partition, record.offset, event)))
        if not valid:
            return
        error = await self._try(lambda: self._handle([inc for _, inc in valid]), valid[0][0].topic)
        if error is None:
            return
        for record, incoming in valid:  # isolate the poison: each event alone, once more
            token = correlation_id.set(f"{record.topic}/{record.partition}/{record.offset}")
            try:
                await self._handle([incoming])
            except Rejected as err:
                await self._dead_letter(record, str(err), attempts=1, stage="handle")
            except OUTAGES:
                raise
            except Exception as err:
                await self._dead_letter(
                    record, _reason(err), attempts=self._retry.attempts + 1, stage="handle"
                )
            finally:
                correlation_id.reset(token)

    async def _try(self, call: Callable[[], Awaitable[None]], topic: str) -> Exception | None:
        """Run the batch with bounded retries and exponential backoff; returns the last error, or None on
        success. A bad event (`Rejected`) is returned at once; an outage is re-raised after the last attempt,
        so the batch stays uncommitted and is redelivered."""

        def before_sleep(state: RetryCallState) -> None:
            self._metrics.retried.labels(topic).inc()
            err = state.outcome.exception() if state.outcome else None
            if err is not None and not isinstance(err, OUTAGES):
                log.warning(
                    "batch failed (attempt %s/%s): %s",
                    state.attempt_number,
                    self._retry.attempts,
                    _reason(err),
                )

        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._retry.attempts),
            wait=wait_exponential(multiplier=self._retry.backoff_s, max=self._retry.max_backoff_s),
            retry=retry_if_not_exception_type(Rejected),
            before_sleep=before_sleep,
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    await call()
        except Rejected as err:
            return err  # one event is bad: go straight to isolating it
        except OUTAGES:
            log.warning("dependency unreachable; leaving the batch uncommitted for redelivery")
            raise
        except Exception as err:
            return err
        return None

    async def _dead_letter(
        self, record: ConsumerRecord[Any, Any], reason: str, *, attempts: int, stage: str
    ) -> None:
        self._metrics.dead_lettered.labels(record.topic, stage).inc()
        log.warning(
            "dead-lettered an event",
            extra={
                "fields": {
                    "topic": record.topic,
                    "partition": record.partition,
                    "offset": record.offset,
                    "reason": reason,
                }
            },
        )
        await self._dead.send(record, reason=reason, attempts=attempts)
        if self._on_dead_letter is not None:
            await self._on_dead_letter(record, reason)


def _reason(err: BaseException) -> str:
    text = str(err) or err.__class__.__name__
    return f"{err.__class__.__name__}: {text}"[:2000]


@dataclass(frozen=True)
class Gather:
    """How long the broker may hold a fetch to gather a burst into one batch. By default a fetch answers with
    the first record, so records published a few milliseconds apart (a page's audit records) are handled one
    batch each: one database write per record instead of one per burst."""

    min_bytes: int
    max_wait_ms: int


def subscribe_batches(
    broker: KafkaBroker,
    topics: Sequence[str],
    *,
    group_id: str,
    processor: BatchProcessor[T],
    max_records: int,
    title: str,
    listener: ConsumerRebalanceListener | None = None,
    gather: Gather | None = None,
) -> None:
    """Register a batch subscriber on `topics` in consumer group `group_id`, run by `processor`; `listener` is
    told of each change in the partitions assigned to it; `gather`, if given, has the broker hold each fetch
    until it has that many bytes or that wait has passed."""

    async def raw_records(msg: KafkaMessage) -> Any:
        # Hand the handler the untouched records: decoding is ours, so a malformed one is dead-lettered
        # instead of failing inside FastStream and blocking the partition.
        return msg.raw_message

    subscriber = broker.subscriber(
        *topics,
        batch=True,
        group_id=group_id,
        max_records=max_records,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        decoder=raw_records,
        title=title,
        listener=listener,
        fetch_min_bytes=gather.min_bytes if gather else 1,
        fetch_max_wait_ms=gather.max_wait_ms if gather else 500,
    )

    @subscriber
    async def handle_batch(records: Any) -> None:
        await processor.process(tuple(records))
