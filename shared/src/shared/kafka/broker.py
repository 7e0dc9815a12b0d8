"""The one way a service builds its broker and publishes events."""

from __future__ import annotations

from typing import Any

from faststream.kafka import KafkaBroker
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from prometheus_client import CollectorRegistry

from shared.events import Envelope
from shared.kafka.auth import KafkaCredentials


def make_broker(
    bootstrap: str, *, service: str, credentials: KafkaCredentials, registry: CollectorRegistry
) -> KafkaBroker:
    """A broker whose producer is durable: every write acknowledged by all in-sync replicas, no duplicates
    from producer retries (KAFKA-NOTES.md, "Publishing"); it signs in as the service's own user."""
    return KafkaBroker(
        bootstrap,
        client_id=service,
        security=credentials.faststream(),
        # Topics are created up front by the administrator (shared.topics); a service's user may not.
        allow_auto_create_topics=False,
        acks="all",
        enable_idempotence=True,
        middlewares=[KafkaPrometheusMiddleware(registry=registry, app_name=service)],
        graceful_timeout=15.0,
        logger=None,
    )


def event_key(subject: str) -> bytes:
    """Events are keyed by child id so each child's events keep their order (keys must be bytes)."""
    return subject.encode()


async def publish_event(broker: KafkaBroker, topic: str, event: Envelope[Any]) -> None:
    """Publish one event and wait for the broker's acknowledgement."""
    await broker.publish(
        event.model_dump_json().encode(),
        topic=topic,
        key=event_key(event.subject),
        headers={"content-type": "application/json", "event-type": event.type},
        correlation_id=event.correlation_id or event.id,
    )
