"""An agency's own system, for end-to-end tests: a foreign Kafka client (confluent-kafka, i.e. librdkafka)
that publishes contact events, and a reader of the dead letters the services leave for it."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from confluent_kafka import Consumer, Producer

from shared.topics import Topics


def contact_event_json(
    nhs: str,
    *,
    agency: str = "school",
    event_id: str | None = None,
    summary: str = "Home visit; child well.",
) -> dict[str, Any]:
    """A `contact.recorded` event as an agency writes it: plain JSON, not the project's models."""
    return {
        "id": event_id or str(uuid.uuid4()),
        "type": "contact.recorded",
        "version": 1,
        "source": agency,
        "subject": nhs,
        "time": "2026-03-02T10:00:00Z",
        "data": {
            "agency": agency,
            "author": {"name": "Ms Patel", "role": "Designated safeguarding lead"},
            "child": {"nhs_number": nhs},
            "occurred_at": "2026-03-02T09:15:00Z",
            "contact_type": "home_visit",
            "summary": summary,
            "impact": "neutral",
            "visibility": "family_visible",
        },
    }


class Agency:
    """An agency's own system: librdkafka, acks=all."""

    def __init__(self, bootstrap: str, topics: Topics) -> None:
        self._topics = topics
        self._producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True})

    def publish(self, value: bytes | dict[str, Any], *, key: str, agency: str = "school") -> None:
        body = value if isinstance(value, bytes) else json.dumps(value).encode()
        self._producer.produce(self._topics.contact(agency), body, key=key.encode())
        self._producer.poll(0)

    def flush(self) -> None:
        assert self._producer.flush(30) == 0


def read_dead_letters(
    bootstrap: str, topic: str, marker: str, group: str, *, want: int = 2, within: float = 30.0
) -> list[dict[str, str]]:
    """The headers of up to `want` dead letters on `topic` that consumer group `group` left for a record
    containing `marker`; fewer if no more arrive within `within` seconds."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"reader-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
        }
    )
    consumer.subscribe([topic])
    found: list[dict[str, str]] = []
    deadline = time.monotonic() + within
    try:
        while time.monotonic() < deadline and len(found) < want:
            msg = consumer.poll(0.5)
            if msg is None or msg.error():
                continue
            raw = msg.headers() or []
            pairs = raw.items() if isinstance(raw, dict) else raw
            headers = {str(k): v.decode() if isinstance(v, bytes) else str(v) for k, v in pairs}
            if marker.encode() in (msg.value() or b"") and headers.get("x-consumer-group") == group:
                found.append(headers)
    finally:
        consumer.close()
    return found
