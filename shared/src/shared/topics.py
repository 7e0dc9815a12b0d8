"""Every Kafka topic the system uses, with its partition count, and their creation up front.

FastStream auto-creates a missing topic with one partition (KAFKA-NOTES.md), which would silently cap
parallelism, so every topic is created here, before any service subscribes.
"""

from __future__ import annotations

import contextlib

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

# Agencies each publish to their own topic `contacts.<agency>` (per-agency write rights, BRIEF §5).
AGENCIES: tuple[str, ...] = ("school", "health", "police", "socialcare", "housing", "voluntary")

PARTITIONS = 6


def contact_topic(agency: str) -> str:
    """The topic an agency's systems publish their contact events to."""
    return f"contacts.{agency}"


ACCOUNTS_EVENTS = "accounts.events"
CHRONOLOGY_EVENTS = "chronology.events"
FORUM_EVENTS = "forum.events"
AUDIT_EVENTS = "audit.events"


def dead_letter_topic(topic: str) -> str:
    """Where a consumer puts what it cannot process from `topic`, with the reason in the headers.

    One per source topic, so an agency can be allowed to read its own rejections and nobody else's."""
    return f"{topic}.deadletter"


CONTACT_TOPICS: tuple[str, ...] = tuple(contact_topic(a) for a in AGENCIES)
SOURCE_TOPICS: tuple[str, ...] = (
    *CONTACT_TOPICS,
    ACCOUNTS_EVENTS,
    CHRONOLOGY_EVENTS,
    FORUM_EVENTS,
    AUDIT_EVENTS,
)
ALL_TOPICS: dict[str, int] = {
    **dict.fromkeys(SOURCE_TOPICS, PARTITIONS),
    **{dead_letter_topic(t): 1 for t in SOURCE_TOPICS},
}


async def ensure_topics(bootstrap: str, topics: dict[str, int] | None = None) -> list[str]:
    """Create the topics that do not exist yet; returns the names created."""
    wanted = ALL_TOPICS if topics is None else topics
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [NewTopic(name, n, 1) for name, n in wanted.items() if name not in existing]
        if missing:
            # Another process may create one between our list and create: the same outcome.
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(missing)
        return [t.name for t in missing]
    finally:
        await admin.close()
