"""A service built for unit tests: settings under which nothing reaches a real server, and what the service
published on FastStream's in-memory broker (`TestKafkaBroker`)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import ConsumerRecord
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from shared.service import Runtime
from testsupport.identities import Identities

# Port 9 (discard) has no listener here: a unit test that reached for Kafka or MongoDB by mistake fails
# instead of writing into whatever server a developer runs on the default ports.
NOWHERE_KAFKA = "127.0.0.1:9"
NOWHERE_MONGO = "mongodb://127.0.0.1:9/?serverSelectionTimeoutMS=200"


def offline_settings(identities: Identities) -> dict[str, Any]:
    """Settings fields for a service under unit test: no server, tokens from `identities`, no retry waits."""
    return {
        "kafka_bootstrap": NOWHERE_KAFKA,
        "mongo_url": NOWHERE_MONGO,
        "auth_jwks": identities.jwks_json(),
        "retry_backoff_s": 0.0,
    }


@dataclass(frozen=True)
class Sent:
    """One record a service published."""

    topic: str
    value: bytes
    headers: dict[str, str]

    def json(self) -> Any:
        return json.loads(self.value)


def record_published(broker: KafkaBroker, topics: Sequence[str]) -> list[Sent]:
    """The list every record published to `topics` is appended to (subscribe before the broker starts)."""
    sent: list[Sent] = []

    @broker.subscriber(*topics, title="test: what the service published")
    async def keep(message: KafkaMessage) -> None:
        record = message.raw_message
        assert isinstance(record, ConsumerRecord), "a plain subscriber gets one record at a time"
        sent.append(Sent(record.topic, record.value or b"", dict(message.headers)))

    return sent


@contextlib.asynccontextmanager
async def running_in_background(runtime: Runtime, name: str) -> AsyncIterator[None]:
    """Run the background task the composition root declared as `name` (an outbox relay, say), as the
    service's lifecycle would, and cancel it afterwards."""
    step = runtime.lifecycle.background[name]

    async def run() -> None:
        await step()

    task = asyncio.create_task(run(), name=name)
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def eventually(check: Callable[[], bool], *, what: str, within: float = 5.0) -> None:
    """Poll `check` until it holds, or fail saying what never happened."""
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within:.0f}s waiting for {what}")
        await asyncio.sleep(0.005)


async def eventually_async(
    check: Callable[[], Awaitable[bool]], *, what: str, within: float = 30.0, every: float = 0.2
) -> None:
    """Poll an async `check` until it holds, or fail saying what never happened."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within:.0f}s waiting for {what}")
        await asyncio.sleep(every)
