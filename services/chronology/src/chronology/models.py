"""The chronology read model: one entry per agency contact, and what a reader asks of it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from shared.contracts.accounts import (
    AccountEvent,
    BreakGlassUsed,
    ChildFlagsChanged,
    ChildRegistered,
    JoinApproved,
    LeadHandedOver,
    MemberLeft,
    MemberRemoved,
    PersonRef,
)
from shared.contracts.contacts import (
    Author,
    ContactRecorded,
    ContactType,
    Impact,
    Rag,
    Visibility,
    entry_key,
)
from shared.events import Envelope
from shared.policy import HIDDEN_PROVIDER
from shared.text import Prose

__all__ = ["HIDDEN_PROVIDER"]  # the policy's label, re-exported for what reads chronology's entries
ACCOUNT_SOURCE = "safeguarding account"
EntryKind = Literal["contact", "account", "forum"]


class ChronologyEntry(BaseModel):
    """One line of a child's chronology. `id` is `<agency>:<event id>` for a contact (`entry_key`: two agencies
    may reuse an event id) and the event id for an account change, so a redelivered event is the same entry;
    `supersedes` is the id of the entry corrected, always one of the same agency's.

    `superseded_by` and `duplicate_group` are derived when read: a correction may arrive before or after what it
    corrects, and duplicates are only duplicates of what else is on the record."""

    id: str
    child_id: str
    agency: str
    author: Author | None
    occurred_at: datetime
    period_end: datetime | None = None
    date_uncertain: bool = False
    day: str
    contact_type: ContactType
    summary: str
    impact: Impact
    action_taken: str | None = None
    outcome: str | None = None
    significant: bool = False
    rag: Rag | None = None
    visibility: Visibility = "restricted"
    sensitive_service: bool = False
    recorded_at: datetime
    supersedes: str | None = None
    superseded_by: str | None = None
    duplicate_group: str | None = None
    provider_hidden: bool = False
    author_withheld: bool = Field(
        default=False,
        description="The author is left out: the child is shielded and the author could say where the child is.",
    )
    significance_marked: bool = False  # the lead set `significant`, over the agency's own flag
    kind: EntryKind = "contact"


class SignificanceChange(BaseModel):
    significant: bool
    reason: Prose = Field(min_length=3, max_length=2000, description="Why: it is recorded with the mark.")


def entry_document(event: Envelope[ContactRecorded], *, child_id: str) -> dict[str, Any]:
    """The stored form of the entry for one contact event, keyed by agency and event id (built without a second
    model: this is the ingest hot path). Fields at their default (empty, false, restricted) are left out:
    FerretDB stores a type entry per field, so every field costs on the write path; reads fill them back in."""
    doc = event.data.model_dump(exclude={"child"}, exclude_defaults=True)
    if event.data.supersedes is not None:
        doc["supersedes"] = entry_key(event.data.agency, event.data.supersedes)
    doc.update(
        _id=entry_key(event.data.agency, event.id),
        child_id=child_id,
        day=event.data.occurred_at.date().isoformat(),
        recorded_at=event.time,
    )
    return doc


def account_entry_document(event: Envelope[AccountEvent]) -> dict[str, Any] | None:
    """The chronology entry for a change to the child's account that belongs on the timeline (who joined or
    left the team, who leads, shielding), keyed by the account event's id; None for the rest.

    Summaries name nobody, only a role and a sector: who someone is comes from the author and the team
    directory, both shown as the reader's decision allows, and a summary stored once cannot follow that. An
    entry made by or about a sensitive-service practitioner is `sensitive_service` (its author is then hidden
    from those who may not see such providers) and never reaches the family: that the child sees such a
    service is what the family must not learn (BRIEF §3)."""
    data = event.data
    summary, visibility = _account_summary(data)
    if summary is None:
        return None
    sensitive = data.actor.sensitive_service or any(p.sensitive_service for p in _people_in(data))
    return {
        "_id": event.id,
        "child_id": data.child_id,
        "kind": "account",
        "agency": ACCOUNT_SOURCE,
        "author": {"name": data.actor.name, "role": data.actor.role or data.actor.kind},
        "occurred_at": data.at,
        "period_end": None,
        "date_uncertain": False,
        "day": data.at.date().isoformat(),
        "contact_type": "other",
        "summary": summary,
        "impact": "neutral",
        "action_taken": None,
        "outcome": None,
        "significant": False,
        "rag": None,
        "visibility": "restricted" if sensitive else visibility,
        "sensitive_service": sensitive,
        "recorded_at": event.time,
        "supersedes": None,
    }


def _people_in(data: AccountEvent) -> list[PersonRef]:
    match data:
        case ChildRegistered():
            return [data.lead]
        case JoinApproved() | BreakGlassUsed():
            return [data.person]
        case LeadHandedOver():
            return [data.to]
    return []


def _who(person: PersonRef) -> str:
    # Never the name: a sensitive service's practitioner is not to be identified at all, and for a shielded
    # child a name leads to the school or surgery near the child. The role and sector say what the change means.
    if person.sensitive_service:
        return f"a practitioner from {HIDDEN_PROVIDER}"
    return by_role(person.role, person.agency)


def by_role(role: str | None, agency: str | None) -> str:
    """A practitioner as the timeline's words name them: by role and sector ("a social worker (socialcare)")."""
    role = role or "practitioner"
    article = "an" if role[:1].lower() in "aeiou" else "a"
    return f"{article} {role} ({agency})" if agency else f"{article} {role}"


def _account_summary(data: AccountEvent) -> tuple[str | None, Visibility]:
    match data:
        case ChildRegistered():
            return f"Account opened; {_who(data.lead)} is the lead professional.", "family_visible"
        case JoinApproved():
            return f"{_capital(_who(data.person))} joined the team.", "family_visible"
        case MemberLeft():
            return "A practitioner left the team.", "family_visible"
        case MemberRemoved():
            return "A practitioner was removed from the team.", "restricted"
        case LeadHandedOver():
            return f"Lead professional handed over to {_who(data.to)}.", "family_visible"
        case ChildFlagsChanged():
            what = "shielded" if data.shielded else "no longer shielded"
            return f"The child's record is now {what}.", "restricted"
        case BreakGlassUsed():
            # For the lead and the team, never the family: the reason may say what the emergency is.
            again = f" (used {data.previous_uses} time(s) before)" if data.previous_uses else ""
            purpose = (data.purpose or "emergency").replace("_", " ")
            until = data.expires_at.strftime("%H:%M UTC")
            return (
                f"Emergency (break-glass) access by {_who(data.person)} until {until}{again}: {purpose}. "
                f"Reason given: {data.reason}",
                "restricted",
            )
    return None, "restricted"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


class ChronologyQuery(BaseModel):
    """Which entries a reader wants; every field narrows the result."""

    date_from: date | None = None
    date_to: date | None = None
    agencies: list[str] = Field(default_factory=list)
    contact_types: list[ContactType] = Field(default_factory=list)
    significant_only: bool = False
    kinds: list[EntryKind] = Field(default_factory=list)
    # Set by the service for a reader who may not see sensitive providers: an agency filter then leaves their
    # entries out (and the neutral label picks them), so filtering cannot tell which agency a hidden one is.
    hide_sensitive_agencies: bool = False


class Lens(BaseModel):
    """What the reader may see, from the access policy's decision: the family view, sensitive-service
    providers, and (`see_location`, false for a shielded child without a named role) anything that could say
    where the child is."""

    family_view: bool
    see_sensitive_providers: bool
    see_location: bool


class ChronologyPage(BaseModel):
    child_id: str
    total: int
    entries: list[ChronologyEntry]
    next_cursor: str | None
