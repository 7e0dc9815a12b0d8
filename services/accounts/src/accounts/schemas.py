"""Accounts' HTTP request and response models."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from accounts.domain import ChildDetails, Person
from accounts.store import PendingMatch
from accounts.views import ChildHeader
from shared.policy import FamilyRelationship, JoinRequest, PrincipalKind

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=2000)]


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=200)


class TokenRead(BaseModel):
    access_token: str
    token_type: str = "Bearer"
    expires_at: datetime
    expires_in: int


class PersonCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=3, max_length=100, pattern=r"^[a-z0-9._-]+$")
    name: Text
    kind: PrincipalKind
    agency: str | None = Field(default=None, max_length=100)
    role: str | None = Field(default=None, max_length=100)
    contact: str | None = Field(default=None, max_length=200, description="Work email or phone.")
    sensitive_service: bool = False
    password: str | None = Field(
        default=None, min_length=12, max_length=200, description="For the built-in sign-in only."
    )


class PersonRead(BaseModel):
    person_id: str
    username: str
    name: str
    kind: PrincipalKind
    agency: str | None
    role: str | None
    contact: str | None
    sensitive_service: bool

    @classmethod
    def of(cls, person: Person) -> PersonRead:
        return cls.model_validate(person.model_dump(exclude={"password_hash"}))


class ChildCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    nhs_number: str | None = Field(default=None, max_length=20, description="10 digits, modulus-11 checked.")
    given_name: Text
    family_name: Text
    date_of_birth: date
    address: str | None = Field(default=None, max_length=500)
    postcode: str | None = Field(default=None, max_length=10)
    school: str | None = Field(default=None, max_length=200)
    gp: str | None = Field(default=None, max_length=200)
    shielded: bool = Field(default=False, description="Refuge, witness protection, domestic-abuse risk.")
    sensitive_service: bool = Field(
        default=False, description="Involved with sexual health, mental health or substance misuse services."
    )

    def details(self) -> ChildDetails:
        return ChildDetails.model_validate(self.model_dump(exclude={"shielded", "sensitive_service"}))


class RegistrationRead(BaseModel):
    status: Literal["created", "pending_match"]
    child_id: str | None = None
    match_id: str | None = None
    message: str


class FlagsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    shielded: bool
    sensitive_service: bool
    reason: Reason


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


class ChangeRead(BaseModel):
    """What a team change leaves: read the header again to see the account."""

    child_id: str
    seq: int


class BreakGlassRead(BaseModel):
    child_id: str
    grant_id: str
    expires_at: datetime
    message: str


class ChildRequestsRead(BaseModel):
    child_id: str
    display_name: str
    requests: list[JoinRequest]


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

    same_child_id: str | None = Field(
        default=None, max_length=100, description="The existing child this is; null: a new child."
    )
