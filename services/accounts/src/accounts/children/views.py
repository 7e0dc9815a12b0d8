"""What a child's account looks like to one viewer: pure functions from the account and the policy's decision.

The view decides the fields: `identity_only` shows who the child is and nothing else; `family` hides other
family members; a shielded child's address, postcode, school and GP are shown only where the decision says
`see_address` (BRIEF §3).

The team directory follows the same decision. A sensitive-service provider is one neutral line for ordinary
members (they know someone else is involved, not who or which service) and is left out of the family's
directory: to a parent, that the child sees a sexual-health or substance-misuse service is itself the secret.
For a shielded child, those without `see_address` see each member's role and sector but not their name or
contact details: a practitioner's name or work address leads to the school, surgery or refuge near the child.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from accounts.children.models import Child
from shared import policy
from shared.policy import ChildAccess, Decision, FamilyRelationship, TeamMember, View

# The policy's neutral label, as a line of the directory (the viewers list uses it too).
HIDDEN_PROVIDER = policy.HIDDEN_PROVIDER[0].upper() + policy.HIDDEN_PROVIDER[1:]
WITHHELD_NAME = policy.WITHHELD_NAME


class TeamEntry(BaseModel):
    """One line of the team directory: who, agency, role, how to reach them."""

    person_id: str | None
    name: str
    agency: str | None
    role: str | None
    contact: str | None
    lead: bool
    joined_at: datetime
    details_withheld: bool = Field(
        default=False,
        description="Name and contact withheld: the child is shielded and they could say where the child is.",
    )


class FamilyEntry(BaseModel):
    person_id: str
    name: str
    relationship: FamilyRelationship


class GrantEntry(BaseModel):
    person_id: str
    name: str
    agency: str | None
    reason: str
    granted_at: datetime
    expires_at: datetime


class ChildHeader(BaseModel):
    """The top of the child's page, as this viewer may see it."""

    child_id: str
    view: View
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


def team_entry(member: TeamMember, access: ChildAccess, *, see_sensitive: bool) -> TeamEntry:
    if member.sensitive_service and not see_sensitive:
        return TeamEntry(
            person_id=None,
            name=HIDDEN_PROVIDER,
            agency=None,
            role=None,
            contact=None,
            lead=False,
            joined_at=member.joined_at,
        )
    return TeamEntry(
        person_id=member.person_id,
        name=member.name,
        agency=member.agency,
        role=member.role,
        contact=member.contact,
        lead=member.person_id == access.lead_id,
        joined_at=member.joined_at,
    )


def team_directory(access: ChildAccess, decision: Decision, *, viewer_id: str) -> list[TeamEntry]:
    """The team as this viewer may see it (see the module's docstring)."""
    see_sensitive = decision.see_sensitive_providers
    team: list[TeamEntry] = []
    for member in access.members:
        if member.sensitive_service and not see_sensitive and decision.family_view:
            continue
        yourself = member.person_id == viewer_id  # nobody is hidden from themself
        entry = team_entry(member, access, see_sensitive=see_sensitive or yourself)
        if not decision.see_address and not yourself and entry.person_id is not None:
            entry = entry.model_copy(
                update={"person_id": None, "name": WITHHELD_NAME, "contact": None, "details_withheld": True}
            )
        team.append(entry)
    return team


def header(
    child: Child, decision: Decision, *, viewer_id: str, view: View, now: datetime, manages: bool
) -> ChildHeader:
    """The header for `view` (the decision's view, or narrower, e.g. identity-only in a search result)."""
    details = child.details
    access = child.access
    base = ChildHeader(
        child_id=child.child_id,
        view=view,
        relationship=decision.relationship,
        given_name=details.given_name,
        family_name=details.family_name,
        date_of_birth=details.date_of_birth,
    )
    if view == "identity_only":
        return base
    show_location = decision.see_address
    team = team_directory(access, decision, viewer_id=viewer_id)
    update: dict[str, object] = {
        "nhs_number": details.nhs_number,
        "address": details.address if show_location else None,
        "postcode": details.postcode if show_location else None,
        "school": details.school if show_location else None,
        "gp": details.gp if show_location else None,
        "location_hidden": not show_location,
        "team": team,
        "break_glass_until": decision.break_glass_expires_at,
    }
    if view == "family":
        own = access.family_link(viewer_id)
        update["family"] = (
            [FamilyEntry(person_id=own.person_id, name=own.name, relationship=own.relationship)]
            if own
            else []
        )
        return base.model_copy(update=update)
    update["shielded"] = access.shielded
    update["sensitive_service"] = access.sensitive_service
    update["family"] = [
        FamilyEntry(person_id=f.person_id, name=f.name, relationship=f.relationship) for f in access.family
    ]
    if manages:
        update["pending_requests"] = len(access.pending)
        update["break_glass"] = [
            GrantEntry(
                person_id=g.person_id,
                name=g.name,
                agency=g.agency,
                reason=g.reason,
                granted_at=g.granted_at,
                expires_at=g.expires_at,
            )
            for g in access.break_glass
            if g.expires_at > now
        ]
    return base.model_copy(update=update)
