"""People's HTTP request and response models."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from accounts.people.models import Person
from shared.policy import PrincipalKind
from shared.text import LINE_CHECK, PROSE_CHECK, Line

# The check after the constraints: pydantic counts a constraint after a validator before it strips (shared.text).
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), LINE_CHECK]


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Control characters are refused naming the field (a NUL cannot even be stored: it used to be a 500).
    username: Line = Field(min_length=1, max_length=100)
    password: Line = Field(min_length=1, max_length=200)


class TokenRead(BaseModel):
    access_token: str
    token_type: str = "Bearer"
    expires_at: datetime
    expires_in: int = Field(description="Seconds the access token lasts: minutes, then refresh it.")
    refresh_token: str = Field(
        description="Swap it at POST /auth/refresh for a new pair before the access token expires; each is "
        "good once."
    )
    refresh_expires_at: datetime = Field(description="When the sign-in ends, refreshes or not.")


class Refresh(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: Line = Field(min_length=1, max_length=200)


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=3, max_length=2000), PROSE_CHECK
    ]


class PersonCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Line = Field(min_length=3, max_length=100, pattern=r"^[a-z0-9._-]+$")
    name: Text
    kind: PrincipalKind
    agency: Line | None = Field(default=None, max_length=100)
    role: Line | None = Field(default=None, max_length=100)
    contact: Line | None = Field(default=None, max_length=200, description="Work email or phone.")
    sensitive_service: bool = False
    password: Line | None = Field(
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
    disabled: bool = False

    @classmethod
    def of(cls, person: Person) -> PersonRead:
        return cls.model_validate(person.model_dump(include=set(cls.model_fields) - {"password_hash"}))
