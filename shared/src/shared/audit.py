"""Audit events: every service records each read or write of a child's data, and each refusal, on
`audit.events` (BRIEF §3); accounts stores them for auditors and for the family's "who viewed" list.

    trail = AuditTrail(KafkaAuditSink(runtime.broker), service="chronology")
    decision = await snapshots.decide(principal, "read_chronology", child_id)
    await trail.record(principal=principal, action="read_chronology", child_id=child_id, decision=decision)
    if not decision.allowed: raise AccessRefused(decision.reason)   # shared.errors

`record` returns once the broker has acknowledged the event: a view that cannot be logged is not served
(fail closed), so call it before returning the data — or run the read beside it with `while_recording`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Protocol, TypeVar

from faststream.kafka import KafkaBroker

from shared.contracts.audit import AUDIT_RECORDED, NO_CHILD, AuditRecorded
from shared.events import Envelope, make_event
from shared.kafka.broker import event_key
from shared.policy import Decision, Principal
from shared.topics import AUDIT_EVENTS

T = TypeVar("T")


class AuditSink(Protocol):
    async def send(self, event: Envelope[AuditRecorded]) -> None:
        """Deliver one audit event durably, or raise."""


class KafkaAuditSink:
    """Publishes audit events to `audit.events`, keyed by child id, and waits for the acknowledgement."""

    def __init__(self, broker: KafkaBroker, *, topic: str = AUDIT_EVENTS) -> None:
        self._broker = broker
        self._topic = topic

    async def send(self, event: Envelope[AuditRecorded]) -> None:
        await self._broker.publish(
            event.model_dump_json().encode(),
            topic=self._topic,
            key=event_key(event.subject),
            headers={"content-type": "application/json", "event-type": event.type},
            correlation_id=event.correlation_id or event.id,
        )


class MemoryAuditSink:
    """Keeps audit events in a list: for unit tests only."""

    def __init__(self) -> None:
        self.events: list[Envelope[AuditRecorded]] = []

    async def send(self, event: Envelope[AuditRecorded]) -> None:
        self.events.append(event)


class AuditTrail:
    def __init__(self, sink: AuditSink, *, service: str) -> None:
        self._sink = sink
        self.service = service

    async def record(
        self,
        *,
        principal: Principal,
        action: str,
        child_id: str | None,
        decision: Decision,
        purpose: str | None = None,
        detail: str | None = None,
        correlation_id: str | None = None,
        at: datetime | None = None,
    ) -> Envelope[AuditRecorded]:
        """Record that `principal` did (or was refused) `action` on `child_id`, with the policy's reason."""
        data = AuditRecorded(
            actor_id=principal.subject,
            actor_name=principal.name,
            actor_kind=principal.kind,
            actor_agency=principal.agency,
            actor_role=principal.role,
            action=action,
            child_id=child_id,
            allowed=decision.allowed,
            reason=decision.reason[:2000],
            purpose=purpose[:2000] if purpose else None,
            relationship=decision.relationship,
            view=decision.view,
            break_glass=decision.break_glass,
            service=self.service,
            at=at or datetime.now(UTC),
            detail=detail[:500] if detail else None,
        )
        event = make_event(
            type=AUDIT_RECORDED,
            source=self.service,
            subject=child_id or NO_CHILD,
            data=data,
            correlation_id=correlation_id,
        )
        await self._sink.send(event)
        return event


async def while_recording(recording: Awaitable[object], read: Awaitable[T]) -> T:
    """What `read` gives, read while `recording` (the access's audit record) is on its way: returned only once
    both are done, so the reader waits for the slower, not for both. The record's failure is raised first,
    whatever was read (an access that cannot be recorded is not served); the read's own failure after it,
    once the attempt is recorded. For reads only: what `read` does happens even when it is then refused."""
    recorded, fetched = await asyncio.gather(recording, read, return_exceptions=True)
    if isinstance(recorded, BaseException):
        raise recorded
    if isinstance(fetched, BaseException):
        raise fetched
    return fetched
