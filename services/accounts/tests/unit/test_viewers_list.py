"""Who viewed a child's record, as each reader may see it: pure, from what the read model keeps, the child's
access snapshot and the policy's decision (issue 9, rules 4 and 7)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from accounts.audit.models import KnownViewer
from accounts.audit.service import viewers_shown
from accounts.children.views import HIDDEN_PROVIDER, WITHHELD_NAME
from shared.policy import ChildAccess, FamilyLink, Principal, PrincipalKind, TeamMember, decide

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
PRACTITIONERS = {
    "lead": ("socialcare", "social worker", False),
    "teacher": ("school", "teacher", False),
    "nurse": ("health", "sexual health nurse", True),
}


def member(person_id: str) -> TeamMember:
    agency, role, sensitive = PRACTITIONERS[person_id]
    return TeamMember(
        person_id=person_id,
        name=f"Name of {person_id}",
        kind="practitioner",
        agency=agency,
        role=role,
        sensitive_service=sensitive,
        joined_at=NOW,
    )


def access(*, shielded: bool) -> ChildAccess:
    family = [
        FamilyLink(person_id=p, name=f"Name of {p}", relationship="parent", linked_at=NOW)
        for p in ("parent", "carer")
    ]
    return ChildAccess(
        child_id="c-1",
        lead_id="lead",
        lead_agency="socialcare",
        members=tuple(member(p) for p in PRACTITIONERS),
        family=tuple(family),
        shielded=shielded,
    )


def known(person_id: str, minutes_ago: int) -> KnownViewer:
    kind: PrincipalKind = "family" if person_id in ("parent", "carer") else "practitioner"
    agency, role, sensitive = PRACTITIONERS.get(person_id, (None, None, False))
    return KnownViewer(
        person_id=person_id,
        name=f"Name of {person_id}",
        kind=kind,
        agency=agency,
        role=role,
        last_viewed=NOW - timedelta(minutes=minutes_ago),
        times=2,
        break_glass=False,
        sensitive_service=sensitive,
    )


# most recent first, as the read model answers: every kind of viewer, and a break-glass user no longer there
KNOWN = [known("teacher", 1), known("carer", 2), known("nurse", 3), known("lead", 4), known("parent", 5)]


def seen_by(who: str, *, shielded: bool) -> list[tuple[str | None, str, str | None, str | None, bool]]:
    kind: PrincipalKind = "family" if who in ("parent", "carer") else "practitioner"
    principal = Principal(subject=who, name=f"Name of {who}", kind=kind)
    child = access(shielded=shielded)
    decision = decide(principal, "read_viewers", child, now=NOW)
    return [
        (v.person_id, v.name, v.agency, v.role, v.details_withheld)
        for v in viewers_shown(KNOWN, access=child, decision=decision, viewer_id=who)
    ]


def test_a_shielded_childs_parent_sees_who_looked_by_role_not_by_name_and_the_other_family_counted() -> None:
    assert seen_by("parent", shielded=True) == [
        (None, WITHHELD_NAME, "school", "teacher", True),
        (None, "Other family members (1)", None, None, False),
        (None, HIDDEN_PROVIDER, None, None, False),
        (None, WITHHELD_NAME, "socialcare", "social worker", True),
        ("parent", "Name of parent", None, None, False),
    ]


def test_a_shielded_childs_ordinary_member_sees_colleagues_withheld_and_themself_named() -> None:
    assert seen_by("teacher", shielded=True) == [
        ("teacher", "Name of teacher", "school", "teacher", False),
        ("carer", "Name of carer", None, None, False),
        (None, HIDDEN_PROVIDER, None, None, False),
        (None, WITHHELD_NAME, "socialcare", "social worker", True),
        ("parent", "Name of parent", None, None, False),
    ]


def test_the_shielded_childs_lead_and_any_reader_of_an_unshielded_child_see_every_name() -> None:
    lead = seen_by("lead", shielded=True)
    assert [name for _, name, _, _, _ in lead] == [f"Name of {v.person_id}" for v in KNOWN]
    assert not any(withheld for *_, withheld in lead)
    teacher = seen_by("teacher", shielded=False)
    assert [name for _, name, _, _, _ in teacher] == [
        "Name of teacher",
        "Name of carer",
        HIDDEN_PROVIDER,
        "Name of lead",
        "Name of parent",
    ]
    assert seen_by("parent", shielded=False)[0][1] == "Name of teacher"


def test_the_nurse_sees_her_own_views_named_and_the_shielded_childs_colleagues_withheld() -> None:
    nurse = seen_by("nurse", shielded=True)
    assert nurse[2] == ("nurse", "Name of nurse", "health", "sexual health nurse", False)
    assert nurse[0] == (None, WITHHELD_NAME, "school", "teacher", True)
