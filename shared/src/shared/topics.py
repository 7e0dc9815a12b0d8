"""Every Kafka topic the system uses, with its partition count, and their creation up front.

FastStream auto-creates a missing topic with one partition (KAFKA-NOTES.md), which would silently cap
parallelism, so every topic is created here, before any service subscribes.

Names can carry a prefix (setting `<SERVICE>_TOPIC_PREFIX`, empty in production): a test or a benchmark runs
on topics of its own, so it neither replays nor disturbs anyone else's events.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from shared.kafka.auth import KafkaCredentials

# Agencies each publish to their own topic `contacts.<agency>` (per-agency write rights, BRIEF §5).
AGENCIES: tuple[str, ...] = ("school", "health", "police", "socialcare", "housing", "voluntary")

PARTITIONS = 6


def dead_letter_topic(topic: str) -> str:
    """Where a consumer puts what it cannot process from `topic`, with the reason in the headers.

    One per source topic, so an agency can be allowed to read its own rejections and nobody else's."""
    return f"{topic}.deadletter"


def agency_of_topic(topic: str) -> str | None:
    """`contacts.school` (with any prefix) → `school`; None for a topic that is not an agency's."""
    parts = topic.split(".")
    return parts[-1] if len(parts) >= 2 and parts[-2] == "contacts" and parts[-1] else None


@dataclass(frozen=True)
class Topics:
    """The topic names of one deployment (or one test run)."""

    prefix: str = ""

    def contact(self, agency: str) -> str:
        """The topic an agency's systems publish their contact events to."""
        return f"{self.prefix}contacts.{agency}"

    @property
    def contacts(self) -> tuple[str, ...]:
        return tuple(self.contact(a) for a in AGENCIES)

    @property
    def accounts_events(self) -> str:
        return f"{self.prefix}accounts.events"

    @property
    def chronology_events(self) -> str:
        return f"{self.prefix}chronology.events"

    @property
    def forum_events(self) -> str:
        return f"{self.prefix}forum.events"

    @property
    def audit_events(self) -> str:
        return f"{self.prefix}audit.events"

    @property
    def identity_events(self) -> str:
        """Which child a contact without an NHS number was about (shared.contracts.identity)."""
        return f"{self.prefix}identity.events"

    @property
    def sources(self) -> tuple[str, ...]:
        return (
            *self.contacts,
            self.accounts_events,
            self.chronology_events,
            self.forum_events,
            self.audit_events,
            self.identity_events,
        )

    def all(self) -> dict[str, int]:
        """Every topic with its partition count, dead-letter topics included."""
        return {
            **dict.fromkeys(self.sources, PARTITIONS),
            **{dead_letter_topic(t): 1 for t in self.sources},
        }


DEFAULT = Topics()
# The production names, for code that has no runtime (the demo loader, the audit sink's default, kafka-init).
AUDIT_EVENTS = DEFAULT.audit_events
ALL_TOPICS = DEFAULT.all()


def contact_topic(agency: str) -> str:
    return DEFAULT.contact(agency)


# Source topics are kept for ever: access snapshots fold each child's whole account history, and every read
# model must be rebuildable from the topics (BRIEF §4). Retention of case data is applied to the read models
# by the retention job, not by Kafka deleting history from under them.
KEEP_FOR_EVER = {"retention.ms": "-1", "retention.bytes": "-1"}


async def ensure_topics(
    bootstrap: str, topics: dict[str, int] | None = None, *, credentials: KafkaCredentials
) -> list[str]:
    """Create the topics that do not exist yet (source topics kept for ever); returns the names created.

    Only the broker's administrator may create topics (the services' users have no CREATE right)."""
    wanted = ALL_TOPICS if topics is None else topics
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **credentials.aiokafka())
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(name, n, 1, topic_configs={} if name.endswith(".deadletter") else KEEP_FOR_EVER)
            for name, n in wanted.items()
            if name not in existing
        ]
        if missing:
            # Another process may create one between our list and create: the same outcome.
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(missing)
        return [t.name for t in missing]
    finally:
        await admin.close()
