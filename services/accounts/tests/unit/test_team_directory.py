"""The team directory as each viewer may see it: pure, from the child's access snapshot and the policy's
decision (issue 9, rules 4 and 7)."""

from __future__ import annotations

from datetime import UTC, datetime

from accounts.children.views import HIDDEN_PROVIDER, WITHHELD_NAME, team_directory
from shared.policy import ChildAccess, FamilyLink, Principal, TeamMember, decide

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def member(person_id: str, agency: str, role: str, *, sensitive: bool = False) -> TeamMember:
    return TeamMember(
        person_id=person_id,
        name=f"Name of {person_id}",
        kind="practitioner",
        agency=agency,
        role=role,
        contact=f"{person_id}@example.org",
        sensitive_service=sensitive,
        joined_at=NOW,
    )


def access(*, shielded: bool) -> ChildAccess:
    return ChildAccess(
        child_id="c-1",
        lead_id="lead",
        lead_agency="socialcare",
        members=(
            member("lead", "socialcare", "social worker"),
            member("teacher", "school", "teacher"),
            member("nurse", "health", "sexual health nurse", sensitive=True),
        ),
        family=(FamilyLink(person_id="parent", name="Parent", relationship="parent", linked_at=NOW),),
        shielded=shielded,
    )


def seen_by(who: str, *, shielded: bool = False) -> list[tuple[str | None, str, str | None, str | None]]:
    kind = "family" if who == "parent" else "practitioner"
    principal = Principal(subject=who, name=who, kind=kind, agency=None if kind == "family" else "school")
    child = access(shielded=shielded)
    decision = decide(principal, "view_header", child, now=NOW)
    return [(e.person_id, e.name, e.role, e.contact) for e in team_directory(child, decision, viewer_id=who)]


def test_a_sensitive_provider_is_a_neutral_line_for_members_absent_for_the_family_and_named_for_the_lead() -> (
    None
):
    assert seen_by("teacher")[-1] == (None, HIDDEN_PROVIDER, None, None)
    assert [name for _, name, _, _ in seen_by("parent")] == ["Name of lead", "Name of teacher"]
    assert seen_by("lead")[-1] == ("nurse", "Name of nurse", "sexual health nurse", "nurse@example.org")
    assert seen_by("nurse")[-1][1] == "Name of nurse"  # nobody is hidden from themself


def test_a_shielded_childs_team_shows_roles_not_names_or_contacts_to_those_without_a_named_role() -> None:
    assert seen_by("parent", shielded=True) == [
        (None, WITHHELD_NAME, "social worker", None),
        (None, WITHHELD_NAME, "teacher", None),
    ]
    assert seen_by("teacher", shielded=True) == [
        (None, WITHHELD_NAME, "social worker", None),
        ("teacher", "Name of teacher", "teacher", "teacher@example.org"),
        (None, HIDDEN_PROVIDER, None, None),
    ]
    assert seen_by("lead", shielded=True)[1] == (
        "teacher",
        "Name of teacher",
        "teacher",
        "teacher@example.org",
    )
