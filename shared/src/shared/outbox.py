"""No write accepted over HTTP is lost between MongoDB and Kafka, without transactions (FerretDB has none).

The write and the events it must publish are stored together in one atomic single-document write (an outbox
entry). `OutboxRelay` publishes what is pending, each child's entries oldest first and one after another,
waiting for the broker's acknowledgement of each message, then marks them published. Different children's
entries go out side by side: one acknowledgement at a time, a backlog of account changes moved at about 23
commits/s while 5,000 children were registered, and a team member's removal waited behind all of it. A crash
between publish and mark publishes it again: consumers are idempotent on event ids (at-least-once, as
everywhere).

Where the entries live is the service's business, behind the `Outbox` protocol: chronology keeps an event
inside the document it belongs to (`DocumentOutbox`, fields from `outbox_fields`); accounts keeps a commit log.

Faults are told apart: a broker or database that is away is retried with backoff until it is back; an entry
that can never be published (unreadable, or refused by the broker for good, such as an oversized message) is
set aside with its reason, logged and counted (`sg_outbox_set_aside_total`), and the relay carries on, so one
poison entry never blocks the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiokafka.errors import KafkaError, KafkaTimeoutError
from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry, Counter
from pydantic import ValidationError
from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.collection import AsyncCollection
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, wait_exponential_jitter

from shared import mongo
from shared.events import Envelope
from shared.kafka.broker import event_key

log = logging.getLogger(__name__)
PENDING_INDEX = IndexModel([("pending", ASCENDING), ("written_at", ASCENDING)])


@dataclass(frozen=True)
class OutboxMessage:
    topic: str
    key: bytes
    value: bytes
    headers: Mapping[str, str]
    correlation_id: str

    @classmethod
    def of(cls, topic: str, event: Envelope[Any]) -> OutboxMessage:
        """The Kafka record for `event`, keyed by its child (see `shared.kafka.broker`)."""
        return cls(
            topic=topic,
            key=event_key(event.subject),
            value=event.model_dump_json().encode(),
            headers={"content-type": "application/json", "event-type": event.type},
            correlation_id=event.correlation_id or event.id,
        )


@dataclass(frozen=True)
class Pending:
    """One outbox entry waiting to be published: its messages in order, or why it cannot be read."""

    id: Any
    messages: Sequence[OutboxMessage] = ()
    unreadable: str | None = None
    child_id: str | None = None


class Outbox(Protocol):
    name: str

    async def pending(self, *, limit: int) -> Sequence[Pending]:
        """Entries not yet published, oldest first (for one child, in the order they were written)."""

    async def mark_published(self, entries: Sequence[Pending]) -> None:
        """Record that these entries reached the broker."""

    async def set_aside(self, entry: Pending, reason: str) -> None:
        """Take an entry that can never be published out of the queue, keeping it and the reason."""


Publish = Callable[[OutboxMessage], Awaitable[None]]
AfterPublish = Callable[[Sequence[Pending]], Awaitable[None]]


def kafka_publisher(broker: KafkaBroker) -> Publish:
    """Publish one outbox message through `broker` and wait for the acknowledgement."""

    async def publish(message: OutboxMessage) -> None:
        await broker.publish(
            message.value,
            topic=message.topic,
            key=message.key,
            headers=dict(message.headers),
            correlation_id=message.correlation_id,
        )

    return publish


@dataclass
class OutboxMetrics:
    published: Counter
    set_aside: Counter

    @classmethod
    def create(cls, registry: CollectorRegistry) -> OutboxMetrics:
        return cls(
            published=Counter(
                "sg_outbox_published", "Outbox entries published", ["outbox"], registry=registry
            ),
            set_aside=Counter(
                "sg_outbox_set_aside",
                "Outbox entries that could never be published and were set aside",
                ["outbox"],
                registry=registry,
            ),
        )


def _by_child(entries: Sequence[Pending]) -> list[list[Pending]]:
    """The entries grouped by child, each group in the outbox's order; entries of no child form one group."""
    groups: dict[str | None, list[Pending]] = {}
    for entry in entries:
        groups.setdefault(entry.child_id, []).append(entry)
    return list(groups.values())


def is_permanent(err: BaseException) -> bool:
    """A refusal that no retry can change: the broker says so (`retriable` false, except a timeout, which is
    the broker being slow or away), or the message itself cannot be encoded."""
    if isinstance(err, KafkaTimeoutError):
        return False
    if isinstance(err, KafkaError):
        return not err.retriable
    return isinstance(err, ValueError | TypeError)


@dataclass
class OutboxRelay:
    outbox: Outbox
    publish: Publish
    metrics: OutboxMetrics
    poll_s: float = 1.0
    batch: int = 200
    after_publish: AfterPublish | None = None
    max_backoff_s: float = 30.0
    _wake: asyncio.Event = field(default_factory=asyncio.Event, init=False)

    def notify(self) -> None:
        """Something was written: publish now rather than at the next sweep."""
        self._wake.set()

    async def run_once(self) -> int:
        """Publish everything pending now; returns how many entries were published. Raises on an outage."""
        published = 0
        while True:
            entries = await self.outbox.pending(limit=self.batch)
            done: list[Pending] = []
            try:
                failures = await asyncio.gather(*(self._in_order(g, done) for g in _by_child(entries)))
            finally:  # what reached the broker before an outage (or a stop) is not published twice needlessly
                if done:
                    await self._published(done)
            published += len(done)
            for failure in failures:
                if failure is not None:
                    raise failure
            if len(entries) < self.batch:
                return published

    async def _in_order(self, entries: Sequence[Pending], done: list[Pending]) -> Exception | None:
        """One child's entries, in order, each once the one before it is acknowledged, added to `done`; an
        outage stops them (what follows must not overtake it) and is returned."""
        for entry in entries:
            try:
                if await self._publish(entry):
                    done.append(entry)
            except Exception as err:
                return err
        return None

    async def _published(self, done: Sequence[Pending]) -> None:
        await self.outbox.mark_published(done)
        self.metrics.published.labels(self.outbox.name).inc(len(done))
        if self.after_publish is not None:
            await self.after_publish(done)

    async def _publish(self, entry: Pending) -> bool:
        """True once all of the entry's messages are acknowledged; False when it was set aside instead."""
        reason = entry.unreadable
        if reason is None:
            try:
                for message in entry.messages:
                    await self.publish(message)
                return True
            except Exception as err:
                if not is_permanent(err):
                    raise
                reason = f"{type(err).__name__}: {err}"
        log.error(
            "outbox entry set aside: it can never be published",
            extra={"fields": {"outbox": self.outbox.name, "entry": str(entry.id), "reason": reason}},
        )
        await self.outbox.set_aside(entry, reason[:2000])
        self.metrics.set_aside.labels(self.outbox.name).inc()
        return False

    async def run(self) -> None:
        """Publish on every write and every `poll_s`, forever; an outage is retried with backoff."""
        retrying = AsyncRetrying(
            wait=wait_exponential_jitter(multiplier=0.5, max=self.max_backoff_s),
            retry=retry_if_exception_type(Exception),
            before_sleep=self._log_retry,
        )
        while True:
            self._wake.clear()
            async for attempt in retrying:
                with attempt:
                    await self.run_once()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_s)

    def _log_retry(self, state: RetryCallState) -> None:
        err = state.outcome.exception() if state.outcome else None
        log.warning(
            "outbox relay could not publish yet (attempt %s): %s",
            state.attempt_number,
            err,
            extra={"fields": {"outbox": self.outbox.name}},
        )


def outbox_fields(topic: str, event: Envelope[Any]) -> mongo.Document:
    """The fields a document carries so that `DocumentOutbox` publishes `event` to `topic` once stored."""
    return {
        "pending": True,
        "written_at": event.time,
        "outbox_topic": topic,
        "outbox_event": event.model_dump_json(),
    }


class DocumentOutbox:
    """An outbox kept inside the documents of one collection (see `outbox_fields`)."""

    def __init__(self, collection: AsyncCollection[mongo.Document]) -> None:
        self._docs = collection
        self.name = collection.name

    async def create_indexes(self) -> None:
        await mongo.ensure_indexes(self._docs.database, {self._docs.name: [PENDING_INDEX]})

    async def pending(self, *, limit: int) -> list[Pending]:
        cursor = self._docs.find({"pending": True}).sort("written_at", ASCENDING).limit(limit)
        return [_pending(doc) async for doc in cursor]

    async def mark_published(self, entries: Sequence[Pending]) -> None:
        await mongo.update_by_id(self._docs, {e.id: {"$set": {"pending": False}} for e in entries})

    async def set_aside(self, entry: Pending, reason: str) -> None:
        await self._docs.update_many(
            {"_id": entry.id}, {"$set": {"pending": False, "outbox_set_aside": reason}}
        )


def _pending(doc: mongo.Document) -> Pending:
    try:
        topic = doc["outbox_topic"]
        event = Envelope[Any].model_validate_json(doc["outbox_event"])
    except (KeyError, TypeError, ValidationError) as err:
        return Pending(id=doc["_id"], unreadable=f"unreadable outbox entry: {type(err).__name__}: {err}")
    return Pending(id=doc["_id"], messages=[OutboxMessage.of(topic, event)], child_id=event.subject)
