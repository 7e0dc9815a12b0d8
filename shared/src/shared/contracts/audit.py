"""The audit contract, v1: what every service publishes to `audit.events` for each read or write of a child's
data, and for each refusal (BRIEF §3: every view is logged — who, when, what, why — and can be reviewed).

Keyed by child id (the envelope's `subject`; `-` for an action about no one child, such as a search that found
nothing). Accounts stores them; auditors query them; the family sees who viewed the record.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from shared.events import Envelope, RawEnvelope
from shared.text import Line, Prose

AUDIT_RECORDED = "audit.recorded"
NO_CHILD = "-"


class AuditRecorded(BaseModel):
    """One access to (or refusal of) a child's data."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    actor_id: Line = Field(min_length=1, max_length=200, description="Who: the token's subject.")
    actor_name: Line = Field(max_length=200)
    actor_kind: Line = Field(max_length=50)
    actor_agency: Line | None = Field(default=None, max_length=100)
    actor_role: Line | None = Field(default=None, max_length=100)
    action: Line = Field(min_length=1, max_length=100, description="What: read_chronology, export, ...")
    child_id: Line | None = Field(default=None, max_length=100, description="Which child, if one.")
    allowed: bool
    reason: Prose = Field(max_length=2000, description="Why it was allowed or refused (the policy's reason).")
    purpose: Prose | None = Field(
        default=None, max_length=2000, description="Why, in the actor's words (break-glass reason, ...)."
    )
    relationship: Line = Field(max_length=50, description="The actor's relationship with the child.")
    view: Line | None = Field(default=None, max_length=50, description="full, family or identity_only.")
    break_glass: bool = False
    service: Line = Field(min_length=1, max_length=100, description="The service that served the access.")
    at: datetime = Field(description="When.")
    detail: Prose | None = Field(
        default=None, max_length=500, description="What, more precisely; never content."
    )


# (event type, version) → the envelope with its data, for the JSON Schema export (shared.schemas).
EVENT_SCHEMAS: dict[tuple[str, int], type[BaseModel]] = {(AUDIT_RECORDED, 1): Envelope[AuditRecorded]}


def decode_audit_event(topic: str, value: bytes) -> Envelope[AuditRecorded]:
    """Validate one record from `audit.events`; raises with a reason fit for the dead-letter headers."""
    raw = RawEnvelope.model_validate_json(value)
    if raw.type != AUDIT_RECORDED:
        raise ValueError(f"unknown event type {raw.type!r} on {topic}; expected {AUDIT_RECORDED!r}")
    if raw.version != 1:
        raise ValueError(
            f"unsupported version {raw.version} of {AUDIT_RECORDED}; this consumer reads version 1"
        )
    return raw.parse_data(AuditRecorded)
