"""A child's account: who the child is, and the access snapshot folded from its events.

No I/O, no clock: times and ids come in as arguments. A change returns the events it makes, numbered from the
child's current `seq`; the caller folds them into the snapshot with `shared.access.fold` and commits both.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict

from accounts.errors import Conflict, Invalid
from accounts.people.models import Person
from shared.contracts.accounts import AccountEvent, Actor, ChildFlagsChanged, ChildRegistered
from shared.policy import ChildAccess


class ChildDetails(BaseModel):
    """Who the child is and where they live: what accounts holds and never puts in an event but the name."""

    model_config = ConfigDict(frozen=True)

    nhs_number: str | None = None
    given_name: str
    family_name: str
    date_of_birth: date
    address: str | None = None
    postcode: str | None = None
    school: str | None = None
    gp: str | None = None


class Child(BaseModel):
    """A child's account: details, and the access snapshot folded from its events. The child id is the NHS
    number when the child has one (the consistent identifier, BRIEF §3: agencies key their events by it), and
    a generated `c-...` id otherwise."""

    model_config = ConfigDict(frozen=True)

    child_id: str
    details: ChildDetails
    access: ChildAccess
    created_at: datetime

    @property
    def seq(self) -> int:
        return self.access.seq


def name_key(name: str) -> str:
    """A name as it is compared: letters only, case folded."""
    return re.sub(r"[^a-z]", "", name.casefold())


def register(
    *,
    child_id: str,
    details: ChildDetails,
    lead: Person,
    actor: Actor,
    shielded: bool,
    sensitive_service: bool,
    now: datetime,
) -> ChildRegistered:
    if lead.kind not in ("practitioner", "manager"):
        raise Invalid("the lead professional must be a practitioner or a manager")
    return ChildRegistered(
        child_id=child_id,
        seq=1,
        actor=actor,
        at=now,
        nhs_number=details.nhs_number,
        given_name=details.given_name,
        family_name=details.family_name,
        date_of_birth=details.date_of_birth,
        shielded=shielded,
        sensitive_service=sensitive_service,
        lead=lead.ref(),
    )


def change_flags(
    access: ChildAccess, *, shielded: bool, sensitive_service: bool, reason: str, actor: Actor, now: datetime
) -> list[AccountEvent]:
    if access.shielded == shielded and access.sensitive_service == sensitive_service:
        raise Conflict("the flags already have these values")
    return [
        ChildFlagsChanged(
            child_id=access.child_id,
            seq=access.seq + 1,
            actor=actor,
            at=now,
            shielded=shielded,
            sensitive_service=sensitive_service,
            reason=reason,
        )
    ]
