"""Children's HTTP request and response models."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from accounts.children.models import ChildDetails
from shared.text import LINE_CHECK, PROSE_CHECK, Line, Prose

# The check after the constraints: pydantic counts a constraint after a validator before it strips (shared.text).
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), LINE_CHECK]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=2000), PROSE_CHECK]


class ChildCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    nhs_number: Line | None = Field(default=None, max_length=20, description="10 digits, modulus-11 checked.")
    given_name: Text
    family_name: Text
    date_of_birth: date
    address: Prose | None = Field(default=None, max_length=500)
    postcode: Line | None = Field(default=None, max_length=10)
    school: Line | None = Field(default=None, max_length=200)
    gp: Line | None = Field(default=None, max_length=200)
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


class ChangeRead(BaseModel):
    """What a team change leaves: read the header again to see the account."""

    child_id: str
    seq: int
