"""The scale history's documents and what is served."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from shared.contracts.forum import Audience, ScaleRecorded
from shared.policy import HIDDEN_PROVIDER, PrincipalKind

HIDDEN_PERSON = (
    "confidential"  # the one line every hidden practitioner's scales are drawn on, as the forum does
)
HIDDEN_NAME = f"A practitioner from {HIDDEN_PROVIDER}"
WITHHELD_PERSON = "withheld"  # a shielded child's practitioner, to a reader who may not see where they are


def scale_document(data: ScaleRecorded) -> dict[str, Any]:
    """One recorded scale, keyed by its scale id: the same scale delivered again is the same document."""
    by = data.by
    return {
        "_id": data.scale_id,
        "child_id": data.child_id,
        "thread_id": data.thread_id,
        "audience": data.audience,
        "person_id": by.person_id,
        "name": by.name,
        "kind": by.kind,
        "role": by.role,
        "agency": by.agency,
        "confidential": by.confidential,
        "score": data.score,
        "comment": data.comment,
        "at": data.at,
    }


class ScalePoint(BaseModel):
    at: datetime
    score: int = Field(ge=0, le=10)
    comment: str = ""
    audience: Audience = Field(description="The thread's audience the scale was recorded in.")


class ScaleLine(BaseModel):
    """One participant's scales, oldest first."""

    person_id: str = Field(
        description=f'"{HIDDEN_PERSON}" for a practitioner the reader may not know; '
        f'"{WITHHELD_PERSON}-<n>" for one whose name is withheld (a shielded child).'
    )
    name: str
    kind: PrincipalKind
    role: str | None = None
    agency: str | None = None
    family: bool = Field(description="The family's own line (a parent, carer or the child).")
    details_withheld: bool = Field(
        default=False,
        description="Name withheld: the child is shielded and the practitioner could say where the child is.",
    )
    points: list[ScalePoint]

    @property
    def latest(self) -> ScalePoint:
        return self.points[-1]


class SafetyScales(BaseModel):
    child_id: str
    family_view: bool = Field(description="Only the scales recorded where the family can see them.")
    lines: list[ScaleLine] = Field(
        description="One per participant: the family's first, then by first scale."
    )
