"""Is this a child who already has an account? Matching on NHS number, or name + date of birth + postcode.

BRIEF §3, "Identity": uncertain matches go to a human, never silently merged. Two things wait for one: a
registration that may be a known child (`PendingMatch`), and an agency's contact without an NHS number that no
child matched exactly (`ContactMatch`).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from accounts.children.models import Child, ChildDetails, name_key
from accounts.errors import Conflict, NotFound
from shared.contracts.identity import ContactIdentified
from shared.events import Envelope

# Publishes which child a contact was about (to `identity.events`) and waits for the acknowledgement.
Publish = Callable[[Envelope[ContactIdentified]], Awaitable[None]]


def postcode_key(postcode: str | None) -> str:
    return re.sub(r"\s", "", postcode or "").upper()


@dataclass(frozen=True)
class MatchOutcome:
    kind: Literal["new", "match", "uncertain"]
    child_ids: tuple[str, ...] = ()


def _similar(a: str, b: str) -> bool:
    return difflib.SequenceMatcher(None, name_key(a), name_key(b)).ratio() >= 0.8


def match_child(new: ChildDetails, candidates: list[Child]) -> MatchOutcome:
    """Whether `new` is a child who already has an account. `candidates` are the children with the same NHS
    number or the same date of birth.

    - the same NHS number: a match;
    - no NHS number on one side, and exactly one child with the same name, date of birth and postcode: a match
      when `new` has no NHS number, uncertain when it has one (a person must confirm the two are the same);
    - several exact matches, or names that are close but not equal: uncertain;
    - otherwise (or different NHS numbers on both sides): a new child.
    """
    if new.nhs_number:
        same = [c for c in candidates if c.details.nhs_number == new.nhs_number]
        if same:
            return MatchOutcome("match", (same[0].child_id,))
    exact: list[str] = []
    close: list[str] = []
    for child in candidates:
        old = child.details
        if old.date_of_birth != new.date_of_birth:
            continue
        if old.nhs_number and new.nhs_number and old.nhs_number != new.nhs_number:
            continue  # two different NHS numbers are two different children
        same_names = name_key(old.given_name) == name_key(new.given_name) and name_key(
            old.family_name
        ) == name_key(new.family_name)
        same_postcode = bool(new.postcode) and postcode_key(old.postcode) == postcode_key(new.postcode)
        if same_names and same_postcode:
            exact.append(child.child_id)
            continue
        signals = [
            _similar(old.given_name, new.given_name),
            _similar(old.family_name, new.family_name),
            same_postcode,
        ]
        if sum(signals) >= 2:
            close.append(child.child_id)
    if len(exact) == 1 and not close and not new.nhs_number:
        return MatchOutcome("match", tuple(exact))
    if exact or close:
        return MatchOutcome("uncertain", tuple(exact + close))
    return MatchOutcome("new")


class PendingMatch(BaseModel):
    """A registration that may be a child who already has an account: waits for a manager to confirm."""

    model_config = ConfigDict(frozen=True)

    match_id: str
    details: ChildDetails
    shielded: bool
    sensitive_service: bool
    requested_by: str
    candidates: tuple[str, ...]
    status: Literal["pending", "same_child", "new_child"] = "pending"
    resolved_by: str | None = None
    child_id: str | None = None
    created_at: datetime


class ContactMatch(BaseModel):
    """A contact waiting for a person to say which child it was about."""

    id: str  # the contact event's id
    status: Literal["waiting", "identified", "no_match"]
    agency: str
    given_name: str
    family_name: str
    date_of_birth: str
    postcode: str
    occurred_at: datetime
    candidates: list[str]
    received_at: datetime
    child_id: str | None = None
    resolved_by: str | None = None


class UnknownChild(NotFound):
    """The child named in a resolution has no account."""


class AlreadyResolved(Conflict):
    """Someone resolved this match or contact first."""
