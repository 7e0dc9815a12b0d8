"""The check every route about a child makes: decide from the local access snapshot, audit, refuse or go on.

Every read and write of a child's data is audited, refusals included (BRIEF §3, "Every view is logged").
A service builds its guard in its composition root from its access snapshots and its audit trail.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiokafka import ConsumerRebalanceListener

from shared.access import AccessSnapshots, SnapshotStale, SnapshotStore
from shared.access_cache import CachedSnapshots
from shared.access_history import KafkaAccountHistory
from shared.audit import AuditSink, AuditTrail, KafkaAuditSink, while_recording
from shared.contracts.accounts import decode_account_event
from shared.errors import AccessRefused, AccessUnavailable, AuditUnavailable
from shared.logs import correlation_id
from shared.policy import Action, ChildAccess, Decision, Principal
from shared.service import Runtime

T = TypeVar("T")


class Guard:
    """Decides from `snapshots` and records every decision through `audit_sink`, as `service`."""

    def __init__(self, snapshots: SnapshotStore, *, audit_sink: AuditSink, service: str) -> None:
        self.snapshots = snapshots
        self.audit = AuditTrail(audit_sink, service=service)

    async def check(
        self,
        principal: Principal,
        action: Action,
        child_id: str,
        *,
        purpose: str | None = None,
        detail: str | None = None,
        narrow: Callable[[Decision], Decision] | None = None,
    ) -> Decision:
        """The policy's decision for this principal, action and child; `AccessRefused` when it says no.

        `narrow` lets a service refuse what the policy allows for a reason of its own (the forum: a family
        member and a practitioner-only thread), so that the one audit record says what was decided."""
        decision, stale = await self._decide(principal, action, child_id, narrow)
        await self._record(principal, action, child_id, decision, purpose=purpose, detail=detail)
        _enforce(decision, stale)
        return decision

    async def read(
        self,
        principal: Principal,
        action: Action,
        child_id: str,
        fetch: Callable[[Decision], Awaitable[T]],
        *,
        purpose: str | None = None,
        detail: str | None = None,
    ) -> T:
        """`check`, then `fetch(decision)`, a read with no side effect, run while the audit record is on its
        way: the reader waits for the slower of the two, not for both. What was fetched is returned only once
        the record is acknowledged, and a read that cannot be recorded is refused as `check` refuses it."""
        decision, stale = await self._decide(principal, action, child_id, None)
        if stale is not None or not decision.allowed:
            await self._record(principal, action, child_id, decision, purpose=purpose, detail=detail)
            _enforce(decision, stale)
        return await while_recording(
            self._record(principal, action, child_id, decision, purpose=purpose, detail=detail),
            fetch(decision),
        )

    async def _decide(
        self,
        principal: Principal,
        action: Action,
        child_id: str,
        narrow: Callable[[Decision], Decision] | None,
    ) -> tuple[Decision, SnapshotStale | None]:
        try:
            decision = await self.snapshots.decide(principal, action, child_id)
        except SnapshotStale as err:  # fail closed, and the refusal is audited like any other
            return Decision(allowed=False, reason=str(err), relationship="none"), err
        if narrow is not None and decision.allowed:
            decision = narrow(decision)
        return decision, None

    async def _record(
        self,
        principal: Principal,
        action: Action,
        child_id: str,
        decision: Decision,
        *,
        purpose: str | None,
        detail: str | None,
    ) -> None:
        try:
            await self.audit.record(
                principal=principal,
                action=action,
                child_id=child_id,
                decision=decision,
                purpose=purpose,
                detail=detail,
                correlation_id=correlation_id.get(),
            )
        except Exception as err:
            # No read goes unrecorded: if the audit log cannot take it, the reader is refused, not served.
            raise AuditUnavailable(
                "cannot record this access in the audit log right now; try again shortly"
            ) from err

    async def access(self, child_id: str) -> ChildAccess | None:
        """The child's access snapshot, for what a page shows of the account (names, the team) once `check`
        has allowed the read; a snapshot gone stale since fails closed, as in `check`."""
        try:
            return await self.snapshots.get(child_id)
        except SnapshotStale as err:
            raise AccessUnavailable(str(err)) from err

    async def allows(self, principal: Principal, action: Action, child_id: str) -> bool:
        """Whether the policy would let this principal do `action` (to offer it on a page, say); asking is not
        an access, so nothing is audited. A stale snapshot fails closed, as in `check`: 503, never a guess."""
        try:
            return (await self.snapshots.decide(principal, action, child_id)).allowed
        except SnapshotStale as err:
            raise AccessUnavailable(str(err)) from err


def _enforce(decision: Decision, stale: SnapshotStale | None) -> None:
    """Raise what a refused (or undecidable) access answers; return for an allowed one."""
    if stale is not None:
        raise AccessUnavailable(str(stale)) from stale
    if not decision.allowed:
        raise AccessRefused(decision.reason)


def local_guard(
    runtime: Runtime, *, snapshots: SnapshotStore | None = None, audit_sink: AuditSink | None = None
) -> Guard:
    """The guard of a service that keeps its own access snapshots (rebuilt from `accounts.events` when one
    missed a change) and audits every access on `audit.events`; either part can be replaced in tests.

    It subscribes nothing: the composition root consumes `accounts.events` into `guard.snapshots`."""
    settings = runtime.settings
    topics = runtime.topics
    if snapshots is None:
        history = KafkaAccountHistory(
            settings.kafka_bootstrap, topics.accounts_events, credentials=settings.kafka_credentials()
        )
        snapshots = CachedSnapshots(
            AccessSnapshots(runtime.db, history=history),
            ttl_s=settings.access_cache_s,
            owned_ttl_s=settings.access_cache_owned_s,
            topic=topics.accounts_events,
            partitions=history.partitions,
        )
    sink = audit_sink or KafkaAuditSink(runtime.broker, topic=topics.audit_events)
    return Guard(snapshots, audit_sink=sink, service=settings.service_name)


def consume_account_events(runtime: Runtime, snapshots: SnapshotStore, *, title: str) -> None:
    """Keep `snapshots` (a guard's) up to date from `accounts.events`, in the service's "access" group; a
    snapshot kept in memory is told which children's events this process applies (shared.access_cache)."""
    runtime.consume(
        [runtime.topics.accounts_events],
        group="access",
        decode=decode_account_event,
        handle=snapshots.on_account_events,
        on_dead_letter=snapshots.on_dead_letter,
        title=title,
        listener=rebalance_listener(snapshots),
    )


def rebalance_listener(snapshots: SnapshotStore) -> ConsumerRebalanceListener | None:
    """What the subscription feeding `snapshots` tells of its assignment (None: nothing kept needs to know)."""
    return snapshots.rebalance_listener if isinstance(snapshots, CachedSnapshots) else None
