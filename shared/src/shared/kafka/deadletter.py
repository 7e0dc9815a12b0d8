"""Dead letters: the original record, untouched, on `<topic>.deadletter` with headers that say why."""

from __future__ import annotations

from typing import Any

from aiokafka import ConsumerRecord
from faststream.kafka import KafkaBroker

from shared.topics import dead_letter_topic


class DeadLetters:
    """Publishes records a consumer gave up on. If this publish fails the caller raises, so the record is
    redelivered rather than lost."""

    def __init__(self, broker: KafkaBroker, *, consumer_group: str) -> None:
        self._broker = broker
        self._group = consumer_group

    async def send(self, record: ConsumerRecord[Any, Any], *, reason: str, attempts: int) -> None:
        headers = {
            "x-original-topic": record.topic,
            "x-original-partition": str(record.partition),
            "x-original-offset": str(record.offset),
            "x-error": reason,
            "x-attempts": str(attempts),
            "x-consumer-group": self._group,
        }
        await self._broker.publish(
            record.value or b"",
            topic=dead_letter_topic(record.topic),
            key=record.key,
            headers=headers,
        )
