"""What the web reads from the backends: its own copies of the fields it shows.

The web is deployed on its own and imports no other service, so it declares the response shapes it relies on
here. Unknown fields are ignored, so a backend may add fields without breaking the pages.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict


class Read(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Token(Read):
    access_token: str
    expires_in: int
    # accounts' built-in sign-in gives one (a refresh token is good once, see accounts.people.sessions)
    refresh_token: str | None = None
    refresh_expires_at: datetime | None = None


class Me(Read):
    person_id: str
    username: str
    name: str
    kind: str
    agency: str | None = None
    role: str | None = None


class TeamEntry(Read):
    person_id: str | None = None
    name: str
    agency: str | None = None
    role: str | None = None
    contact: str | None = None
    lead: bool = False
    joined_at: datetime | None = None
    details_withheld: bool = False  # a shielded child: name and contact could say where the child is


class FamilyEntry(Read):
    person_id: str
    name: str
    relationship: str


class GrantEntry(Read):
    name: str
    agency: str | None = None
    reason: str
    expires_at: datetime


class ChildHeader(Read):
    """Who the child is, as this viewer may see them (accounts decides what is filled in)."""

    child_id: str
    view: str
    relationship: str
    given_name: str
    family_name: str
    date_of_birth: date
    nhs_number: str | None = None
    address: str | None = None
    postcode: str | None = None
    school: str | None = None
    gp: str | None = None
    location_hidden: bool = False
    shielded: bool | None = None
    sensitive_service: bool | None = None
    team: list[TeamEntry] = []
    family: list[FamilyEntry] = []
    pending_requests: int | None = None
    break_glass: list[GrantEntry] = []
    break_glass_until: datetime | None = None

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.family_name}"


class JoinRequest(Read):
    request_id: str
    person_id: str
    name: str
    agency: str | None = None
    role: str | None = None
    contact: str | None = None
    reason: str
    requested_at: datetime


class ChildRequests(Read):
    child_id: str
    display_name: str
    requests: list[JoinRequest]


class Viewer(Read):
    name: str
    kind: str
    agency: str | None = None
    role: str | None = None
    last_viewed: datetime
    times: int
    break_glass: bool = False
    details_withheld: bool = False  # a shielded child: who looked could say where the child is


class ChildOverview(Read):
    """The header and who has viewed the record, in one read; `viewers` None (with the reason) if refused."""

    header: ChildHeader
    viewers: list[Viewer] | None = None
    viewers_refused: str | None = None


class Author(Read):
    name: str
    role: str


class ChronologyEntry(Read):
    id: str
    agency: str
    author: Author | None = None
    occurred_at: datetime
    period_end: datetime | None = None
    date_uncertain: bool = False
    day: str
    contact_type: str
    summary: str
    impact: str
    action_taken: str | None = None
    outcome: str | None = None
    significant: bool = False
    rag: str | None = None
    visibility: str = "restricted"
    supersedes: str | None = None
    superseded_by: str | None = None
    duplicate_group: str | None = None
    provider_hidden: bool = False
    author_withheld: bool = False  # a shielded child: the author could say where the child is
    significance_marked: bool = False  # the lead's mark, rather than the agency's own flag
    kind: str = "contact"  # contact (from an agency) or account (a change to the team or the record)

    @property
    def account_change(self) -> bool:
        return self.kind == "account"


class ChronologyPage(Read):
    child_id: str
    total: int
    entries: list[ChronologyEntry]
    next_cursor: str | None = None


class AgencySeries(Read):
    agency: str
    points: list[tuple[str, int]]


class ContactGraph(Read):
    child_id: str
    granularity: str
    total: int
    periods: list[str] = []
    series: list[AgencySeries]


class CloudTerm(Read):
    term: str
    documents: int


class KeywordCloud(Read):
    child_id: str
    view: str
    documents: int
    terms: list[CloudTerm]


class KeywordEntry(Read):
    entry_id: str
    kind: str = "contact"  # or "post": a forum post
    thread_id: str | None = None
    post_id: str | None = None
    occurred_at: datetime
    agency: str


class KeywordEntries(Read):
    child_id: str
    term: str
    entries: list[KeywordEntry]


class ScalePoint(Read):
    at: datetime
    score: int
    comment: str = ""


class ScaleLine(Read):
    person_id: str
    name: str
    kind: str
    family: bool
    points: list[ScalePoint]


class SafetyScales(Read):
    child_id: str
    family_view: bool
    lines: list[ScaleLine]


class AnalyticsOverview(Read):
    """The graph, the cloud and the scales in one read; a part None (with the reason) if refused."""

    graph: ContactGraph | None = None
    graph_refused: str | None = None
    cloud: KeywordCloud | None = None
    cloud_refused: str | None = None
    scales: SafetyScales | None = None
    scales_refused: str | None = None


class Notification(Read):
    """One notification in the person's inbox: the kind of event, the child's initials, where to look."""

    id: str
    seq: int
    kind: str
    title: str
    child_id: str
    child_initials: str
    link: str
    at: datetime
    created_at: datetime
    read: bool
    urgent: bool = False


class Inbox(Read):
    notifications: list[Notification]
    unread: int


class ChildChanges(Read):
    """What is new about one child for the person since they last opened its record."""

    child_id: str
    last_looked_at: datetime | None = None
    new: dict[str, int] = {}
    total: int = 0
    more: bool = False


class Changes(Read):
    children: list[ChildChanges]


class NotificationPreferences(Read):
    channels: dict[str, list[str]]
    customised: bool = False
