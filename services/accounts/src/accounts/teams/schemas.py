"""Team HTTP request and response models."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from accounts.children.schemas import Reason
from shared.policy import FamilyRelationship, JoinRequest


class JoinAsk(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason = Field(description="Why you need to be in this child's team.")


class DecisionReason(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, max_length=2000)


class RequiredReason(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason


class LeadHandOver(BaseModel):
    model_config = ConfigDict(extra="forbid")

    person_id: str = Field(min_length=1, max_length=100)
    reason: str | None = Field(default=None, max_length=2000)


class FamilyLinkCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    person_id: str = Field(min_length=1, max_length=100)
    relationship: FamilyRelationship


class BreakGlassRead(BaseModel):
    child_id: str
    grant_id: str
    expires_at: datetime
    message: str


class ChildRequestsRead(BaseModel):
    child_id: str
    display_name: str
    requests: list[JoinRequest]
