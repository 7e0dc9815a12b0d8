"""Team HTTP request and response models."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from accounts.children.schemas import Reason
from shared.contracts.accounts import BreakGlassPurpose
from shared.policy import FamilyRelationship, JoinRequest
from shared.text import Line, Prose


class JoinAsk(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason = Field(description="Why you need to be in this child's team.")


class JoinAskSent(BaseModel):
    """A request to join that may or may not have reached a team: the asker may not learn which."""

    status: Literal["sent"] = "sent"
    message: str


class DecisionReason(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Prose | None = Field(default=None, max_length=2000)


class RequiredReason(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason


class LeadHandOver(BaseModel):
    model_config = ConfigDict(extra="forbid")

    person_id: Line = Field(min_length=1, max_length=100)
    reason: Prose | None = Field(default=None, max_length=2000)


class FamilyLinkCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    person_id: Line = Field(min_length=1, max_length=100)
    relationship: FamilyRelationship
    views_shown_to_family: bool = Field(
        default=False,
        description="Show this person's views of the record to the other family members by name; "
        "otherwise they are counted, not named.",
    )


class BreakGlassAsk(BaseModel):
    model_config = ConfigDict(extra="forbid")

    purpose: BreakGlassPurpose = Field(description="The kind of emergency.")
    reason: Prose = Field(
        min_length=20,
        max_length=2000,
        description="What is happening and why the child's record is needed now, in a sentence or more.",
    )

    @field_validator("reason")
    @classmethod
    def _words(cls, value: str) -> str:
        value = " ".join(value.split())
        if len(value) < 20 or len(value.split()) < 4:
            raise ValueError("say what is happening and why the record is needed now, in a sentence")
        return value


class BreakGlassRead(BaseModel):
    child_id: str
    grant_id: str
    expires_at: datetime
    message: str


class ChildRequestsRead(BaseModel):
    child_id: str
    display_name: str
    requests: list[JoinRequest]
