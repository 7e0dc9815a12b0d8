"""The people who sign in, and how a signed-in principal is named in account events."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.accounts import Actor, PersonRef
from shared.policy import Principal, PrincipalKind


class Person(BaseModel):
    """Anyone who signs in: practitioner, manager, family member (parent, carer, the child), auditor, or an
    agency's system."""

    model_config = ConfigDict(frozen=True)

    person_id: str
    username: str
    name: str
    kind: PrincipalKind
    agency: str | None = None
    role: str | None = None
    contact: str | None = None
    sensitive_service: bool = False
    password_hash: str | None = Field(default=None, repr=False)
    # Who made this account (None: council IT, the identity provider or the demo seed). Nobody approves access
    # for an account they made, since they may hold its password.
    created_by: str | None = None
    # A disabled account signs in and refreshes nothing; sessions begun before `sessions_after` stay dead even
    # once it is enabled again.
    disabled: bool = False
    sessions_after: datetime | None = None
    # Repeated failed sign-ins lock the account until then (`accounts.people.signin`).
    locked_until: datetime | None = None

    def principal(self) -> Principal:
        return Principal(
            subject=self.person_id, name=self.name, kind=self.kind, agency=self.agency, role=self.role
        )

    def ref(self) -> PersonRef:
        return PersonRef(
            person_id=self.person_id,
            name=self.name,
            kind=self.kind,
            agency=self.agency,
            role=self.role,
            contact=self.contact,
            sensitive_service=self.sensitive_service,
        )


def actor_of(principal: Principal, *, sensitive_service: bool = False) -> Actor:
    """The principal as the author of an account event; `sensitive_service` so that every service that shows
    the change can keep a sensitive-service practitioner unnamed (BRIEF §3)."""
    return Actor(
        person_id=principal.subject,
        name=principal.name,
        kind=principal.kind,
        agency=principal.agency,
        role=principal.role,
        sensitive_service=sensitive_service,
    )
