"""The audit log's entries, and how each record of the two topics that feed it becomes one.

Two sources feed it: `audit.events` (every read, write or refusal in any service) and `accounts.events` (each
change to a team, each decision to share or not to share, with its reason, and each sign-out and account
disabled or enabled). Both are stored keyed by
event id, so a redelivery is ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.accounts import (
    AccessDecisionRecorded,
    AccountEvent,
    BreakGlassUsed,
    ChildRegistered,
    FamilyLinked,
    JoinApproved,
    JoinRequested,
    LeadHandedOver,
    PersonEvent,
    SessionEnded,
    decode_account_event,
    decode_person_event,
)
from shared.contracts.audit import AuditRecorded, decode_audit_event
from shared.events import Envelope, NotForThisConsumer
from shared.topics import Topics

VIEW_ACTIONS: tuple[str, ...] = (
    "view_header",
    "read_chronology",
    "read_graph",
    "read_cloud",
    "read_forum",
    "export",
)


class AuditEntry(BaseModel):
    """One line of the audit log: an access (from `audit.events`) or an account change (`accounts.events`)."""

    model_config = ConfigDict(frozen=True)

    id: str
    at: datetime
    service: str
    actor_id: str
    actor_name: str
    actor_kind: str
    actor_agency: str | None = None
    actor_role: str | None = None
    action: str
    child_id: str | None = None
    allowed: bool
    reason: str
    purpose: str | None = None
    relationship: str | None = None
    view: str | None = None
    break_glass: bool = False
    detail: str | None = None


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
    details_withheld: bool = Field(
        default=False,
        description="Name withheld: the child is shielded and who looked could say where the child is.",
    )


class KnownViewer(Viewer):
    """A viewer as the read model keeps them: whether they work for a sensitive service is never shown."""

    sensitive_service: bool = False

    def shown(self) -> Viewer:
        return Viewer.model_validate(self.model_dump(exclude={"sensitive_service"}))


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


def entry_from_person(event: Envelope[PersonEvent]) -> AuditEntry:
    """A sign-out, or an account disabled or enabled: about a person, no child."""
    data = event.data
    actor = data.actor
    detail = f"person {data.person_id}"
    if isinstance(data, SessionEnded):
        detail += f", session {data.session_id}"
    return AuditEntry(
        id=event.id,
        at=data.at,
        service=event.source,
        actor_id=actor.person_id,
        actor_name=actor.name,
        actor_kind=actor.kind,
        actor_agency=actor.agency,
        actor_role=actor.role,
        action=event.type,
        child_id=None,
        allowed=True,
        reason=str(getattr(data, "reason", event.type)),
        detail=detail,
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
            try:
                return entry_from_account(decode_account_event(topic, value))
            except NotForThisConsumer:
                return entry_from_person(decode_person_event(topic, value))
        raise ValueError(f"the audit log does not read {topic}")

    return decode
