"""What notifications are made of: the kinds of event, the channels, an alert raised by a rule, a notification
in one person's inbox, and a person's preferences.

A notification says as little as it can (BRIEF §3; issue 13, item 3): the kind of event, the child's initials
and a link to the page, where access is checked again. Never a summary, an author, an agency's name or an
address: whatever reaches a person's screen, phone or mailbox from here is safe to be seen over a shoulder.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.policy import Action, ChildAccess, TeamMember

Kind = Literal[
    "join_requested",
    "break_glass_used",
    "significant_contact",
    "significance_marked",
    "record_opened",
    "cross_agency_pattern",
    "forum_worry",
    "forum_mention",
]
KINDS: tuple[Kind, ...] = Kind.__args__  # type: ignore[attr-defined]
Channel = Literal["in_app", "live", "email", "digest"]
CHANNELS: tuple[Channel, ...] = Channel.__args__  # type: ignore[attr-defined]

TITLES: dict[Kind, str] = {
    "join_requested": "Request to join the team",
    "break_glass_used": "Break-glass access used",
    "significant_contact": "New significant event",
    "significance_marked": "Event marked significant",
    "record_opened": "Record opened by someone new",
    "cross_agency_pattern": "Concerns from several agencies",
    "forum_worry": "New worry in the forum",
    "forum_mention": "You were mentioned in the forum",
}


def initials(display_name: str) -> str:
    """`Sam Test` → `S.T.`: the most of a child's name a notification carries."""
    return "".join(f"{part[0].upper()}." for part in display_name.split() if part[:1].isalpha())[:8]


def notification_id(event_id: str, person_id: str) -> str:
    """The one id of the notification about `event_id` for `person_id`: the same on every redelivery."""
    return hashlib.sha256(f"{event_id}\x00{person_id}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Recipient:
    """Who a rule tells, with what the policy needs to check them again when it delivers."""

    person_id: str
    kind: str = "practitioner"
    agency: str | None = None
    role: str | None = None
    contact: str | None = None

    @classmethod
    def of(cls, member: TeamMember) -> Recipient:
        return cls(member.person_id, member.kind, member.agency, member.role, member.contact)


@dataclass(frozen=True)
class Alert:
    """What a rule raised about one event: tell these people about this kind of thing about this child.

    `action` is what a recipient must still be allowed to do about the child when it is delivered;
    `restricted` alerts never reach a family view; `urgent` ones go on every channel the person has."""

    event_id: str
    kind: Kind
    child_id: str
    child_initials: str
    at: datetime
    recipients: tuple[Recipient, ...]
    action: Action = "view_header"
    restricted: bool = True
    urgent: bool = False
    path: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def alert_for(
    access: ChildAccess,
    *,
    event_id: str,
    kind: Kind,
    at: datetime,
    recipients: list[Recipient],
    exclude: str | None = None,
    **options: object,
) -> Alert | None:
    """An alert to `recipients` (each once, never `exclude`, the person who caused it), None if nobody."""
    seen: dict[str, Recipient] = {}
    for r in recipients:
        if r.person_id != exclude and r.person_id not in seen:
            seen[r.person_id] = r
    if not seen:
        return None
    return Alert(
        event_id=event_id,
        kind=kind,
        child_id=access.child_id,
        child_initials=initials(access.display_name),
        at=at,
        recipients=tuple(seen.values()),
        **options,  # type: ignore[arg-type]
    )


class NotificationRead(BaseModel):
    """One notification in a person's inbox, as the API shows it."""

    model_config = ConfigDict(frozen=True)

    id: str
    seq: int = Field(description="Position in the person's inbox; the live stream's event id.")
    kind: Kind
    title: str
    child_id: str
    child_initials: str
    link: str = Field(description="The page to open; access is checked again there.")
    at: datetime = Field(description="When the event happened.")
    created_at: datetime
    read: bool
    urgent: bool = False


class InboxPage(BaseModel):
    notifications: list[NotificationRead]
    unread: int = Field(
        description="Unread notifications the person may see now (all of them, not this page's)."
    )


class UnreadCount(BaseModel):
    unread: int


class MarkedRead(BaseModel):
    marked: int


class Preferences(BaseModel):
    """Which kinds of event reach a person, and through which channels."""

    model_config = ConfigDict(extra="forbid")

    channels: dict[Kind, list[Channel]] = Field(
        description="Kind of event → the channels it comes through; a kind with no channel is not delivered."
    )
    customised: bool = Field(
        default=False, description="False while the defaults of the person's role apply."
    )

    def allows(self, kind: Kind, channel: Channel) -> bool:
        return channel in self.channels.get(kind, [])


class PreferencesUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channels: dict[Kind, list[Channel]] = Field(max_length=len(KINDS))


_PRACTITIONER: dict[Kind, list[Channel]] = {
    "join_requested": ["in_app", "live", "email"],
    "break_glass_used": ["in_app", "live", "email"],
    "significant_contact": ["in_app", "live", "digest"],
    "significance_marked": ["in_app", "live", "digest"],
    "record_opened": ["in_app", "digest"],
    "cross_agency_pattern": ["in_app", "live", "email"],
    "forum_worry": ["in_app", "live", "digest"],
    "forum_mention": ["in_app", "live", "email"],
}
ROLE_DEFAULTS: dict[str, dict[Kind, list[Channel]]] = {
    "practitioner": _PRACTITIONER,
    # Managers approve joins and watch patterns; the day-to-day of each case comes in the digest.
    "manager": {**_PRACTITIONER, "significant_contact": ["in_app", "digest"], "record_opened": ["digest"]},
    "family": {kind: ["in_app"] for kind in KINDS},
}


def default_preferences(principal_kind: str) -> Preferences:
    """The defaults of a role: every kind in-app; the urgent ones by email too (issue 13, item 1)."""
    channels = ROLE_DEFAULTS.get(principal_kind, ROLE_DEFAULTS["family"])
    return Preferences(channels={k: list(v) for k, v in channels.items()})
