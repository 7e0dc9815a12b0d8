"""Accounts' Kafka subscribers: thin, each hands decoded events to one service function."""

from __future__ import annotations

from collections.abc import Sequence

from accounts.audit import models as audit_models
from accounts.audit import service as audit
from accounts.audit.models import AuditEntry
from accounts.audit.store import AuditStore
from accounts.children.store import ChildStore
from accounts.identity import service as identity
from accounts.identity.models import Publish
from accounts.identity.store import ContactMatchStore
from shared.contracts.contacts import ContactRecorded, decode_contact_event
from shared.contracts.identity import ContactIdentified
from shared.events import Envelope
from shared.kafka.broker import publish_event
from shared.kafka.consumer import Incoming
from shared.service import Runtime


def identified_publisher(runtime: Runtime) -> Publish:
    """Publishes which child a contact was about, to `identity.events`, and waits for the acknowledgement."""

    async def publish(event: Envelope[ContactIdentified]) -> None:
        await publish_event(runtime.broker, runtime.topics.identity_events, event)

    return publish


def register(
    runtime: Runtime, audit_store: AuditStore, *, children: ChildStore, matches: ContactMatchStore
) -> None:
    """Keep the audit log from `audit.events` (every service's accesses) and `accounts.events` (team changes and
    sharing decisions), in the `accounts` consumer group."""

    async def on_audit_records(batch: Sequence[Incoming[AuditEntry]]) -> None:
        """Each access, change or refusal becomes an audit-log entry once; undecodable records are
        dead-lettered, redeliveries ignored, a database outage retried."""
        await audit.store_entries(store=audit_store, entries=[i.event for i in batch])

    runtime.consume(
        [runtime.topics.audit_events, runtime.topics.accounts_events],
        decode=audit_models.audit_record_decoder(runtime.topics),
        handle=on_audit_records,
        title="accounts: audit and account events into the audit log",
    )

    async def on_contacts(batch: Sequence[Incoming[Envelope[ContactRecorded]]]) -> None:
        """Contacts without an NHS number are matched to a child, or wait for a person; others are skipped."""
        await identity.identify_contacts(
            children=children,
            matches=matches,
            publish=identified_publisher(runtime),
            events=[i.event for i in batch],
        )

    runtime.consume(
        runtime.topics.contacts,
        decode=decode_contact_event,
        handle=on_contacts,
        title="accounts: identify contacts without an NHS number",
        group="identify",
    )
