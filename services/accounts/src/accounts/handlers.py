"""Accounts' Kafka handlers: thin, each hands decoded events to one service function.

Which topics and consumer groups feed them is declared in `accounts.app`."""

from __future__ import annotations

from collections.abc import Sequence

from faststream.kafka import KafkaBroker

from accounts.audit import service as audit
from accounts.audit.models import AuditEntry
from accounts.audit.store import AuditStore
from accounts.children.store import ChildStore
from accounts.identity import service as identity
from accounts.identity.models import Publish
from accounts.identity.store import ContactMatchStore
from accounts.people.store import PeopleStore
from shared.contracts.contacts import ContactRecorded
from shared.contracts.identity import ContactIdentified
from shared.events import Envelope
from shared.kafka.broker import publish_event
from shared.kafka.consumer import BatchHandler, Incoming


def identified_publisher(broker: KafkaBroker, topic: str) -> Publish:
    """Publishes which child a contact was about, to `identity.events`, and waits for the acknowledgement."""

    async def publish(event: Envelope[ContactIdentified]) -> None:
        await publish_event(broker, topic, event)

    return publish


def on_audit_records(audit_store: AuditStore, people: PeopleStore) -> BatchHandler[AuditEntry]:
    async def on_audit_records(batch: Sequence[Incoming[AuditEntry]]) -> None:
        """Each access, change or refusal becomes an audit-log entry once, and each view counts once in
        the child's viewers list; undecodable records are dead-lettered, redeliveries ignored, a database
        outage retried."""
        await audit.store_entries(store=audit_store, entries=[i.event for i in batch])
        await audit.record_views(store=audit_store, people=people, batch=batch)

    return on_audit_records


def on_contacts(
    *, children: ChildStore, matches: ContactMatchStore, publish: Publish
) -> BatchHandler[Envelope[ContactRecorded]]:
    async def on_contacts(batch: Sequence[Incoming[Envelope[ContactRecorded]]]) -> None:
        """Contacts without an NHS number are matched to a child, or wait for a person; others are skipped."""
        await identity.identify_contacts(
            children=children, matches=matches, publish=publish, events=[i.event for i in batch]
        )

    return on_contacts
