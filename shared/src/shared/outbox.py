"""No write accepted over HTTP is lost between MongoDB and Kafka, without transactions (FerretDB has none).

The write and the event it must publish are one document: a service inserts it with `pending: true` and the
event inside (one atomic single-document write), and this relay publishes pending documents in the order
they were written, waiting for the broker's acknowledgement, then clears `pending`. A crash between publish
and clear publishes the event again: consumers are idempotent on event ids (at-least-once, as everywhere).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, Protocol

from faststream.kafka import KafkaBroker
from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.collection import AsyncCollection

from shared import mongo
from shared.events import Envelope
from shared.kafka.broker import publish_event

log = logging.getLogger(__name__)
PENDING_INDEX = IndexModel([("pending", ASCENDING), ("written_at", ASCENDING)])


def outbox_fields(topic: str, event: Envelope[Any]) -> mongo.Document:
    """The fields a document carries so that the relay publishes `event` to `topic` after it is stored."""
    return {
        "pending": True,
        "written_at": event.time,
        "outbox_topic": topic,
        "outbox_event": event.model_dump_json(),
    }


class Outbox(Protocol):
    """Where a relay finds what to publish: documents written with `outbox_fields`."""

    name: str

    async def unpublished(self, *, limit: int) -> list[mongo.Document]:
        """Pending documents, oldest written first."""
        ...

    async def mark_published(self, doc_id: Any) -> None: ...


class MongoOutbox:
    """The pending documents of one MongoDB collection."""

    def __init__(self, collection: AsyncCollection[mongo.Document]) -> None:
        self._docs = collection
        self.name = collection.name

    async def unpublished(self, *, limit: int) -> list[mongo.Document]:
        cursor = self._docs.find({"pending": True}).sort("written_at", ASCENDING).limit(limit)
        return [doc async for doc in cursor]

    async def mark_published(self, doc_id: Any) -> None:
        await self._docs.update_one({"_id": doc_id}, {"$set": {"pending": False}})


class OutboxRelay:
    def __init__(self, outbox: Outbox, broker: KafkaBroker, *, poll_s: float = 1.0):
        self._outbox = outbox
        self._broker = broker
        self._poll_s = poll_s
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def notify(self) -> None:
        """Something was written: publish now rather than at the next sweep."""
        self._wake.set()

    async def run_once(self, limit: int = 500) -> int:
        """Publish what is pending now, oldest first; returns how many were published."""
        published = 0
        for doc in await self._outbox.unpublished(limit=limit):
            event = Envelope[Any].model_validate_json(doc["outbox_event"])
            await publish_event(self._broker, doc["outbox_topic"], event)
            await self._outbox.mark_published(doc["_id"])
            published += 1
        return published

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name=f"outbox-{self._outbox.name}")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception as err:  # the broker or database is away: what is pending stays pending
                log.warning("outbox relay could not publish yet: %s", err)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll_s)
            self._wake.clear()
