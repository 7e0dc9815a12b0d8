"""The one access policy every service evaluates locally (BRIEF §3, "Access"). Pure: no I/O, no clock.

Who may do what to a child's account depends only on who is asking (a `Principal` from a verified token), what
they want to do (an `Action`), the child's access snapshot (`ChildAccess`, kept from `accounts.events`) and the
time. The answer is a `Decision`: allowed or not, the reason in plain words (logged, may be shown), and the view
to render: `full` (the lead, approved team members, the lead's line manager, an active break-glass grant);
`family` (a family member or the child: restricted entries, third-party identities, what the child said in
confidence, family-court material and shielded addresses are excluded from *every* derived view); or
`identity_only` (who the child is, name and date of birth, nothing about their case or whereabouts).

Rules, in order: no legitimate relationship (approved membership, family link, active break-glass) means no
access to the child's account; an auditor reads the audit log and nothing else; an agency system publishes
events and reads nothing; break-glass is read-only, needs a recorded reason and expires; someone who left or
was removed from the team is simply no longer a member. Shielded children's address and location are visible
to the lead professional and managers only; sensitive-service providers are hidden from ordinary members.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

PrincipalKind = Literal["practitioner", "family", "auditor", "agency_system", "manager"]
PRINCIPAL_KINDS: tuple[str, ...] = PrincipalKind.__args__  # type: ignore[attr-defined]

View = Literal["full", "family", "identity_only"]
FamilyRelationship = Literal["parent", "carer", "child", "other"]

Action = Literal[
    # reading a child's account
    "view_header",  # who the child is (as the viewer may see) and the team directory
    "read_chronology",
    "read_graph",
    "read_cloud",
    "read_forum",
    "read_viewers",  # who viewed the record
    "export",  # subject access / case export
    # writing to a child's account
    "post_forum",
    "moderate_forum",  # pin danger statements and safety goals, redact a post
    "mark_significance",
    "approve_join",  # approve or decline a request to join the team
    "manage_team",  # remove a member, hand over the lead, link family, change the shielding flags
    # relationships
    "request_join",
    "leave",
    "break_glass",
    # not about one child's account
    "search",  # find a child by NHS number or name + date of birth
    "register_child",
    "resolve_match",  # confirm or reject an uncertain identity match
    "manage_people",  # create practitioner or family accounts
    "read_audit",
]
ACTIONS: tuple[str, ...] = Action.__args__  # type: ignore[attr-defined]

Relationship = Literal[
    "lead",  # the lead professional
    "member",  # an approved team member
    "line_manager",  # a manager in the lead professional's agency
    "break_glass",  # an active, time-limited emergency grant
    "pending",  # asked to join, not yet approved
    "family",  # a family link, including the child themself
    "auditor",
    "agency_system",
    "none",
]

READ_ACTIONS: frozenset[str] = frozenset(
    {"view_header", "read_chronology", "read_graph", "read_cloud", "read_forum"}
)
# Actions that are not about one child: the snapshot may be None.
UNSCOPED_ACTIONS: frozenset[str] = frozenset(
    {"search", "register_child", "resolve_match", "manage_people", "read_audit"}
)
# How a sensitive-service provider is shown to those who may not see it (BRIEF §3): one neutral label on every
# path (team directory, timeline, exports, graph), so no path tells one hidden provider from another.
HIDDEN_PROVIDER = "a confidential health service"
# How a practitioner is named to a reader who may not learn where a shielded child is (BRIEF §3): their name,
# like their work address, could lead to the school, surgery or refuge near the child.
WITHHELD_NAME = "Name withheld"
_PRACTITIONERS = ("practitioner", "manager")
_TEAM = ("lead", "member", "line_manager")


class Principal(BaseModel):
    """Who is asking, as a verified token says."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    subject: str = Field(min_length=1, max_length=200, description="Person or system id (the token's `sub`).")
    name: str = Field(min_length=1, max_length=200)
    kind: PrincipalKind
    agency: str | None = Field(default=None, max_length=100)
    role: str | None = Field(default=None, max_length=100)


class TeamMember(BaseModel):
    """An approved member of the child's team (the lead professional is one too)."""

    model_config = ConfigDict(frozen=True)

    person_id: str
    name: str
    kind: PrincipalKind
    agency: str | None = None
    role: str | None = None
    contact: str | None = Field(default=None, description="Work email or phone: how the team reaches them.")
    sensitive_service: bool = Field(
        default=False, description="Works for a sexual health, mental health or substance misuse service."
    )
    joined_at: datetime


class JoinRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    request_id: str
    person_id: str
    name: str
    kind: PrincipalKind
    agency: str | None = None
    role: str | None = None
    contact: str | None = None
    sensitive_service: bool = False
    reason: str
    requested_at: datetime


class FamilyLink(BaseModel):
    model_config = ConfigDict(frozen=True)

    person_id: str
    name: str
    relationship: FamilyRelationship
    linked_at: datetime
    views_shown_to_family: bool = False  # the other family members see this person's views by name


class BreakGlassGrant(BaseModel):
    model_config = ConfigDict(frozen=True)

    grant_id: str
    person_id: str
    name: str
    agency: str | None = None
    role: str | None = None
    reason: str
    granted_at: datetime
    expires_at: datetime


class ChildAccess(BaseModel):
    """Everything the policy needs about one child; `seq` is the last account event applied."""

    model_config = ConfigDict(frozen=True)

    child_id: str
    seq: int = 0
    display_name: str = ""
    lead_id: str | None = None
    lead_agency: str | None = None
    members: tuple[TeamMember, ...] = ()
    pending: tuple[JoinRequest, ...] = ()
    family: tuple[FamilyLink, ...] = ()
    break_glass: tuple[BreakGlassGrant, ...] = ()
    shielded: bool = False
    sensitive_service: bool = False

    def member(self, person_id: str) -> TeamMember | None:
        return next((m for m in self.members if m.person_id == person_id), None)

    def request(self, request_id: str) -> JoinRequest | None:
        return next((r for r in self.pending if r.request_id == request_id), None)

    def request_of(self, person_id: str) -> JoinRequest | None:
        return next((r for r in self.pending if r.person_id == person_id), None)

    def family_link(self, person_id: str) -> FamilyLink | None:
        return next((f for f in self.family if f.person_id == person_id), None)

    def active_grant(self, person_id: str, now: datetime) -> BreakGlassGrant | None:
        grants = [g for g in self.break_glass if g.person_id == person_id and g.expires_at > now]
        return max(grants, key=lambda g: g.expires_at, default=None)

    def people(self) -> list[str]:
        """Everyone with a standing relationship: members (the lead among them) and family."""
        return [m.person_id for m in self.members] + [f.person_id for f in self.family]


@dataclass(frozen=True)
class Decision:
    """The policy's answer. `reason` is logged with every audit event and may be shown to the asker."""

    allowed: bool
    reason: str
    relationship: Relationship
    view: View | None = None
    see_address: bool = False
    see_sensitive_providers: bool = False
    break_glass: bool = False
    break_glass_expires_at: datetime | None = None

    @property
    def family_view(self) -> bool:
        return self.view == "family"


def relationship_to(principal: Principal, access: ChildAccess | None, now: datetime) -> Relationship:
    """The principal's standing with this child right now."""
    if principal.kind == "auditor":
        return "auditor"
    if principal.kind == "agency_system":
        return "agency_system"
    if access is None:
        return "none"
    who = principal.subject
    if principal.kind == "family":
        return "family" if access.family_link(who) else "none"
    if access.lead_id == who:
        return "lead"
    if access.member(who):
        return "member"
    if principal.kind == "manager" and principal.agency and principal.agency == access.lead_agency:
        return "line_manager"
    if access.active_grant(who, now):
        return "break_glass"
    if access.request_of(who):
        return "pending"
    return "none"


NO_RELATIONSHIP = "no legitimate relationship with this child: ask to join the team, or use break-glass"
NOT_LINKED = "you are not linked to this child as family"


def decide(principal: Principal, action: Action, access: ChildAccess | None, *, now: datetime) -> Decision:
    """May `principal` do `action` on the child whose snapshot is `access`, at `now`?"""
    rel = relationship_to(principal, access, now)

    def deny(reason: str) -> Decision:
        return Decision(allowed=False, reason=reason, relationship=rel)

    if principal.kind == "agency_system":
        return deny("agency systems publish contact events; they cannot read or change accounts")
    if principal.kind == "auditor":
        if action in ("read_audit", "read_viewers"):
            return Decision(allowed=True, reason="auditors review the access log", relationship=rel)
        return deny("auditors may read the audit log only, not the child's case")

    if action in UNSCOPED_ACTIONS:
        return _unscoped(principal, action, rel)
    if access is None:
        # The answer given for a child the caller has no relationship with: child ids are NHS numbers, which
        # anyone may know, so a refusal must not say whether the child has an account (shielded or not).
        return deny(NOT_LINKED if principal.kind == "family" else NO_RELATIONSHIP)
    if principal.kind == "family":
        return _family(action, rel, access)
    return _practitioner(principal, action, rel, access, now)


def _unscoped(principal: Principal, action: Action, rel: Relationship) -> Decision:
    practitioner = principal.kind in _PRACTITIONERS
    allowed = {
        "search": practitioner,
        "register_child": practitioner,
        "resolve_match": principal.kind == "manager",
        "manage_people": practitioner,
        "read_audit": False,
    }[action]
    reasons = {
        "search": "practitioners may find a child to ask to join their team",
        "register_child": "practitioners may open an account for a child they work with",
        "resolve_match": "managers confirm or reject uncertain identity matches",
        "manage_people": "practitioners add family members; managers add staff of their own agency",
        "read_audit": "only auditors read the audit log",
    }
    if allowed:
        return Decision(allowed=True, reason=reasons[action], relationship=rel)
    if action == "read_audit":
        return Decision(allowed=False, reason=reasons[action], relationship=rel)
    who = "managers" if action == "resolve_match" else "practitioners"
    return Decision(allowed=False, reason=f"only {who} may do this", relationship=rel)


def _family(action: Action, rel: Relationship, access: ChildAccess) -> Decision:
    if rel != "family":
        return Decision(
            allowed=False,
            reason=NOT_LINKED,
            relationship=rel,
        )
    family_actions = READ_ACTIONS | {"read_viewers", "export", "post_forum"}
    if action in family_actions:
        return Decision(
            allowed=True,
            reason="family members see the family view of their child's account",
            relationship=rel,
            view="family",
            see_address=not access.shielded,
        )
    return Decision(
        allowed=False,
        reason="this is for the child's practitioners; family members can read, post and see who viewed",
        relationship=rel,
    )


def _practitioner(
    principal: Principal, action: Action, rel: Relationship, access: ChildAccess, now: datetime
) -> Decision:
    manager = rel == "lead" or (principal.kind == "manager" and rel in _TEAM)
    full = Decision(
        allowed=True,
        reason=_TEAM_REASONS.get(rel, "member of the child's team"),
        relationship=rel,
        view="full",
        see_address=not access.shielded or manager,
        see_sensitive_providers=manager,
    )

    def deny(reason: str) -> Decision:
        return Decision(allowed=False, reason=reason, relationship=rel)

    if action == "request_join":
        if rel in ("lead", "member"):
            return deny("you already have access to this child's account")
        if rel == "pending":
            return deny("you have already asked to join; the lead professional will decide")
        return Decision(allowed=True, reason="any practitioner may ask, with a reason", relationship=rel)
    if action == "break_glass":
        if rel in ("lead", "member"):
            return deny("you already have access; break-glass is for emergencies without it")
        if rel == "break_glass":
            return deny("you already have an active break-glass grant for this child")
        return Decision(
            allowed=True,
            reason="emergency access with a recorded purpose and reason, shown to the lead professional",
            relationship=rel,
        )
    if action == "leave":
        if rel == "lead":
            return deny("the lead professional must hand over the lead before leaving")
        if rel == "member":
            return Decision(allowed=True, reason="members may leave the team", relationship=rel)
        return deny("you are not a member of this child's team")

    if rel in ("lead", "member"):
        if action in READ_ACTIONS | {"post_forum", "export", "read_viewers"}:
            return full
        if action in ("mark_significance", "moderate_forum", "approve_join", "manage_team"):
            if manager:
                return full
            return deny("only the lead professional or a manager in the team may do this")
        return deny(f"{action} is not something a team member does")
    if rel == "line_manager":
        # Supervising the lead is a reason to manage the team, not to read the case: that needs membership.
        if action in _LINE_MANAGER_ACTIONS:
            return full
        return deny("managers outside the team manage it but read the case only as members: ask to join")
    if rel == "break_glass":
        grant = access.active_grant(principal.subject, now)
        if action in READ_ACTIONS and grant is not None:
            return Decision(
                allowed=True,
                reason=f"break-glass access until {grant.expires_at.isoformat()}: {grant.reason}",
                relationship=rel,
                view="full",
                see_address=not access.shielded,
                break_glass=True,
                break_glass_expires_at=grant.expires_at,
            )
        return deny("break-glass access is read-only; ask to join the team to do more")
    if rel == "pending":
        return deny("your request to join is waiting for the lead professional's decision")
    return deny(NO_RELATIONSHIP)


_LINE_MANAGER_ACTIONS: frozenset[str] = frozenset(
    {"view_header", "read_viewers", "approve_join", "manage_team"}
)
_TEAM_REASONS: dict[str, str] = {
    "lead": "lead professional for this child",
    "member": "approved member of the child's team",
    "line_manager": "manager in the lead professional's agency",
}


def search_view(decision: Decision, access: ChildAccess) -> View:
    """How a search result for this child is shown: shielded children show identity only to those who may not
    see their whereabouts, and anyone without access to the account sees identity only."""
    if not decision.allowed or decision.view is None:
        return "identity_only"
    if access.shielded and not decision.see_address:
        return "identity_only"
    return decision.view
