"""Identity HTTP request and response models."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from accounts.children.views import ChildHeader
from accounts.identity.models import PendingMatch
from shared.text import Line


class MatchRead(BaseModel):
    match_id: str
    status: str
    given_name: str
    family_name: str
    date_of_birth: date
    postcode: str | None
    nhs_number: str | None
    requested_by: str
    created_at: datetime
    child_id: str | None
    candidates: list[ChildHeader]

    @classmethod
    def of(cls, match: PendingMatch, candidates: list[ChildHeader]) -> MatchRead:
        d = match.details
        return cls(
            match_id=match.match_id,
            status=match.status,
            given_name=d.given_name,
            family_name=d.family_name,
            date_of_birth=d.date_of_birth,
            postcode=d.postcode,
            nhs_number=d.nhs_number,
            requested_by=match.requested_by,
            created_at=match.created_at,
            child_id=match.child_id,
            candidates=candidates,
        )


class MatchResolve(BaseModel):
    model_config = ConfigDict(extra="forbid")

    same_child_id: Line | None = Field(
        default=None, max_length=100, description="The existing child this is; null: a new child."
    )


class ContactResolution(BaseModel):
    child_id: Line | None = Field(
        min_length=1,
        max_length=100,
        description="The candidate the contact was about; null: none of the candidates (it goes nowhere).",
    )


class ContactResolved(BaseModel):
    contact_id: str
    status: str = Field(description="identified, or no_match (none of the candidates).")
    child_id: str | None
