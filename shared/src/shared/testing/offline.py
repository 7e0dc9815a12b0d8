"""A service built for unit tests: settings under which nothing reaches a real server, and what the service
published on FastStream's in-memory broker (`TestKafkaBroker`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import ConsumerRecord
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from shared.testing.identities import Identities

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
