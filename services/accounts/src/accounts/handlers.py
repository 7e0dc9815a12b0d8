"""Accounts' Kafka subscribers: thin, each hands decoded events to one service function."""

from __future__ import annotations

from collections.abc import Sequence

from accounts import auditlog
from accounts.store import AuditEntry, AuditStore
from shared.kafka.consumer import Incoming
from shared.service import Runtime
from shared.topics import ACCOUNTS_EVENTS, AUDIT_EVENTS


def register(runtime: Runtime, audit_store: AuditStore) -> None:
    """Keep the audit log from `audit.events` (every service's accesses) and `accounts.events` (team changes and
    sharing decisions), in the `accounts` consumer group."""

    async def on_audit_records(batch: Sequence[Incoming[AuditEntry]]) -> None:
        """Each access, change or refusal becomes an audit-log entry once; undecodable records are
        dead-lettered, redeliveries ignored, a database outage retried."""
        await auditlog.store_entries(store=audit_store, entries=[i.event for i in batch])

    runtime.consume(
        [AUDIT_EVENTS, ACCOUNTS_EVENTS],
        decode=auditlog.decode_audit_record,
        handle=on_audit_records,
        title="accounts: audit and account events into the audit log",
    )
