"""The audit log's use cases: store what every service reports, answer auditors, tell the family who looked.

Two sources feed it: `audit.events` (every read, write or refusal in any service) and `accounts.events` (each
change to a team, and each decision to share or not to share, with its reason). Both are stored keyed by
event id, so a redelivery is ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from pydantic import BaseModel

from accounts.store import AuditEntry, AuditStore
from accounts.views import HIDDEN_PROVIDER
from shared.contracts.accounts import (
    AccessDecisionRecorded,
    AccountEvent,
    BreakGlassUsed,
    ChildRegistered,
    FamilyLinked,
    JoinApproved,
    JoinRequested,
    LeadHandedOver,
    decode_account_event,
)
from shared.contracts.audit import AuditRecorded, decode_audit_event
from shared.events import Envelope
from shared.policy import ChildAccess, Decision
from shared.topics import Topics

VIEW_ACTIONS: tuple[str, ...] = (
    "view_header",
    "read_chronology",
    "read_graph",
    "read_cloud",
    "read_forum",
    "export",
)


class Viewer(BaseModel):
    """Someone who looked at the child's record, and when they last did."""

    person_id: str | None
    name: str
    kind: str
    agency: str | None
    role: str | None
    last_viewed: datetime
    times: int
    break_glass: bool


def entry_from_audit(event: Envelope[AuditRecorded]) -> AuditEntry:
    data = event.data
    return AuditEntry(id=event.id, **data.model_dump())


def entry_from_account(event: Envelope[AccountEvent]) -> AuditEntry:
    data = event.data
    actor = data.actor
    reason: str = getattr(data, "reason", None) or _DESCRIPTIONS.get(event.type, event.type)
    allowed = True
    action = event.type
    purpose: str | None = None
    if isinstance(data, AccessDecisionRecorded):
        action = "access_decision"
        allowed = data.shared
        reason = data.reason
    if isinstance(data, BreakGlassUsed | JoinRequested):
        purpose = data.reason
    return AuditEntry(
        id=event.id,
        at=data.at,
        service=event.source,
        actor_id=actor.person_id,
        actor_name=actor.name,
        actor_kind=actor.kind,
        actor_agency=actor.agency,
        actor_role=actor.role,
        action=action,
        child_id=data.child_id,
        allowed=allowed,
        reason=reason,
        purpose=purpose,
        break_glass=isinstance(data, BreakGlassUsed),
        detail=_detail(data),
    )


_DESCRIPTIONS = {
    "child.registered": "opened the child's account as lead professional",
    "join.approved": "approved a request to join the team",
    "member.left": "left the team",
    "lead.handed_over": "handed over the lead professional role",
    "family.linked": "linked a family member",
}


def _detail(data: AccountEvent) -> str | None:
    if isinstance(data, AccessDecisionRecorded):
        return f"{data.decision}: {data.person_id}"
    if isinstance(data, JoinApproved | JoinRequested | BreakGlassUsed):
        return f"person {data.person.person_id}"
    if isinstance(data, LeadHandedOver):
        return f"from {data.from_person_id} to {data.to.person_id}"
    if isinstance(data, FamilyLinked):
        return f"person {data.person_id} as {data.relationship}"
    if isinstance(data, ChildRegistered):
        return f"lead {data.lead.person_id}"
    person_id = getattr(data, "person_id", None)
    return f"person {person_id}" if person_id else None


def audit_record_decoder(topics: Topics) -> Callable[[str, bytes], AuditEntry]:
    """Reads one record of `audit.events` or `accounts.events` as an audit-log entry; raises for a bad record."""

    def decode(topic: str, value: bytes) -> AuditEntry:
        if topic == topics.audit_events:
            return entry_from_audit(decode_audit_event(topic, value))
        if topic == topics.accounts_events:
            return entry_from_account(decode_account_event(topic, value))
        raise ValueError(f"the audit log does not read {topic}")

    return decode


async def store_entries(*, store: AuditStore, entries: Sequence[AuditEntry]) -> int:
    """Keep audit entries; an entry seen before is ignored. Returns how many were new."""
    return await store.add(entries)


async def viewers(
    *, store: AuditStore, access: ChildAccess, decision: Decision, limit: int = 5000
) -> list[Viewer]:
    """Who viewed the child's record, most recent first; confidential-service staff are hidden from viewers who
    may not see them."""
    entries = await store.query(child_id=access.child_id, allowed=True, actions=VIEW_ACTIONS, limit=limit)
    by_actor: dict[str, Viewer] = {}
    for entry in entries:  # newest first
        seen = by_actor.get(entry.actor_id)
        if seen is not None:
            by_actor[entry.actor_id] = seen.model_copy(
                update={"times": seen.times + 1, "break_glass": seen.break_glass or entry.break_glass}
            )
            continue
        by_actor[entry.actor_id] = Viewer(
            person_id=entry.actor_id,
            name=entry.actor_name,
            kind=entry.actor_kind,
            agency=entry.actor_agency,
            role=entry.actor_role,
            last_viewed=entry.at,
            times=1,
            break_glass=entry.break_glass,
        )
    hidden = {m.person_id for m in access.members if m.sensitive_service}
    result = []
    for actor_id, viewer in by_actor.items():
        if actor_id in hidden and not decision.see_sensitive_providers:
            viewer = viewer.model_copy(
                update={"person_id": None, "name": HIDDEN_PROVIDER, "agency": None, "role": None}
            )
        result.append(viewer)
    return result


async def query(
    *,
    store: AuditStore,
    child_id: str | None,
    actor_id: str | None,
    action: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
) -> list[AuditEntry]:
    """Audit entries by child, person, time and action, newest first."""
    return await store.query(
        child_id=child_id, actor_id=actor_id, action=action, since=since, until=until, limit=limit
    )
