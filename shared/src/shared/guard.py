"""The check every route about a child makes: decide from the local access snapshot, audit, refuse or go on.

Every read and write of a child's data is audited, refusals included (BRIEF §3, "Every view is logged").
"""

from __future__ import annotations

from fastapi import HTTPException, status

from shared.access import AccessSnapshots, SnapshotStore, follow_accounts
from shared.audit import AuditSink, AuditTrail, KafkaAuditSink
from shared.logs import correlation_id
from shared.policy import Action, Decision, Principal
from shared.service import Runtime


class Guard:
    def __init__(self, snapshots: SnapshotStore, audit: AuditTrail) -> None:
        self.snapshots = snapshots
        self.audit = audit

    async def check(
        self,
        principal: Principal,
        action: Action,
        child_id: str,
        *,
        purpose: str | None = None,
        detail: str | None = None,
    ) -> Decision:
        """The policy's decision for this principal, action and child; 403 with the reason when refused."""
        decision = await self.snapshots.decide(principal, action, child_id)
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
            raise HTTPException(
                status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
                detail="cannot record this access in the audit log right now; try again shortly",
            ) from err
        if not decision.allowed:
            raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail=decision.reason)
        return decision


def guard_for(
    runtime: Runtime, *, snapshots: SnapshotStore | None = None, audit_sink: AuditSink | None = None
) -> Guard:
    """The guard of a service that keeps its own access snapshot from `accounts.events` (unit tests pass
    in-memory `snapshots` and `audit_sink`)."""
    if snapshots is None:
        snapshots = AccessSnapshots(runtime.db)
    follow_accounts(runtime, snapshots)
    runtime.startup.append(snapshots.create_indexes)
    return Guard(
        snapshots,
        AuditTrail(
            audit_sink or KafkaAuditSink(runtime.broker, topic=runtime.topics.audit_events),
            service=runtime.settings.service_name,
        ),
    )
