"""The access policy, exhaustively: every persona by every action, plus the rules that shape views."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.policy import (
    ACTIONS,
    READ_ACTIONS,
    UNSCOPED_ACTIONS,
    BreakGlassGrant,
    ChildAccess,
    FamilyLink,
    JoinRequest,
    Principal,
    TeamMember,
    decide,
    relationship_to,
    search_view,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
EARLIER = NOW - timedelta(days=3)


def _p(subject: str, kind: str, agency: str | None = None, role: str | None = None) -> Principal:
    return Principal(subject=subject, name=subject.title(), kind=kind, agency=agency, role=role)


PEOPLE: dict[str, Principal] = {
    "lead": _p("lead", "practitioner", "socialcare", "social_worker"),
    "member": _p("member", "practitioner", "school", "teacher"),
    "manager_member": _p("manager_member", "manager", "health", "team_manager"),
    "line_manager": _p("line_manager", "manager", "socialcare", "team_manager"),
    "other_manager": _p("other_manager", "manager", "police", "inspector"),
    "pending": _p("pending", "practitioner", "housing", "housing_officer"),
    "break_glass": _p("break_glass", "practitioner", "health", "ed_doctor"),
    "expired_glass": _p("expired_glass", "practitioner", "health", "ed_doctor"),
    "non_member": _p("non_member", "practitioner", "police", "officer"),
    "left": _p("left", "practitioner", "voluntary", "youth_worker"),
    "parent": _p("parent", "family", role="parent"),
    "child": _p("child", "family", role="child"),
    "other_family": _p("other_family", "family", role="parent"),
    "auditor": _p("auditor", "auditor"),
    "agency_system": _p("agency_system", "agency_system", "school"),
}


def _member(person: str, *, sensitive: bool = False) -> TeamMember:
    p = PEOPLE[person]
    return TeamMember(
        person_id=p.subject,
        name=p.name,
        kind=p.kind,
        agency=p.agency,
        role=p.role,
        sensitive_service=sensitive,
        joined_at=EARLIER,
    )


def _grant(person: str, expires_at: datetime) -> BreakGlassGrant:
    return BreakGlassGrant(
        grant_id=f"g-{person}",
        person_id=person,
        name=person,
        reason="attending A&E with injuries, need history",
        granted_at=EARLIER,
        expires_at=expires_at,
    )


def _access(*, shielded: bool = False) -> ChildAccess:
    return ChildAccess(
        child_id="c1",
        seq=7,
        lead_id="lead",
        lead_agency="socialcare",
        members=(_member("lead"), _member("member"), _member("manager_member", sensitive=True)),
        pending=(
            JoinRequest(
                request_id="r1",
                person_id="pending",
                name="Pending",
                kind="practitioner",
                agency="housing",
                reason="rehousing the family",
                requested_at=EARLIER,
            ),
        ),
        family=(
            FamilyLink(person_id="parent", name="Parent", relationship="parent", linked_at=EARLIER),
            FamilyLink(person_id="child", name="Child", relationship="child", linked_at=EARLIER),
        ),
        break_glass=(
            _grant("break_glass", NOW + timedelta(hours=4)),
            _grant("expired_glass", NOW - timedelta(minutes=1)),
        ),
        shielded=shielded,
    )


ACCESS = _access()
DENIED = None
ALLOWED = "allowed"  # allowed, no view (the action renders nothing about the child)
READS = {a: "full" for a in READ_ACTIONS}
FAMILY = {
    **{a: "family" for a in READ_ACTIONS},
    "read_viewers": "family",
    "export": "family",
    "post_forum": "family",
}
TEAM_WRITES = {"read_viewers": "full", "export": "full", "post_forum": "full"}
MANAGES = {
    "mark_significance": "full",
    "moderate_forum": "full",
    "approve_join": "full",
    "manage_team": "full",
}
OUTSIDER = {"request_join": ALLOWED, "break_glass": ALLOWED}
STAFF = {"search": ALLOWED, "register_child": ALLOWED, "manage_people": ALLOWED}
MANAGER_STAFF = {**STAFF, "resolve_match": ALLOWED}

# persona → the actions it may do, with the view; every other action is denied.
EXPECTED: dict[str, dict[str, str]] = {
    "lead": {**READS, **TEAM_WRITES, **MANAGES, **STAFF},
    "member": {**READS, **TEAM_WRITES, "leave": ALLOWED, **STAFF},
    "manager_member": {**READS, **TEAM_WRITES, **MANAGES, "leave": ALLOWED, **MANAGER_STAFF},
    "line_manager": {
        "view_header": "full",
        "read_viewers": "full",
        "approve_join": "full",
        "manage_team": "full",
        **OUTSIDER,
        **MANAGER_STAFF,
    },
    "other_manager": {**OUTSIDER, **MANAGER_STAFF},
    "pending": {"break_glass": ALLOWED, **STAFF},
    "break_glass": {**READS, "request_join": ALLOWED, **STAFF},
    "expired_glass": {**OUTSIDER, **STAFF},
    "non_member": {**OUTSIDER, **STAFF},
    "left": {**OUTSIDER, **STAFF},
    "parent": FAMILY,
    "child": FAMILY,
    "other_family": {},
    "auditor": {"read_audit": ALLOWED, "read_viewers": ALLOWED},
    "agency_system": {},
}


def _outcome(persona: str, action: str) -> str | None:
    decision = decide(PEOPLE[persona], action, ACCESS, now=NOW)  # type: ignore[arg-type]
    assert decision.reason, "every decision carries a reason"
    if not decision.allowed:
        assert decision.view is None
        return DENIED
    return decision.view or ALLOWED


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("persona", list(EXPECTED))
def test_every_persona_and_action_gets_the_expected_decision(persona: str, action: str) -> None:
    assert _outcome(persona, action) == EXPECTED[persona].get(action, DENIED)


def test_the_matrix_covers_every_action_and_every_kind_of_principal() -> None:
    mentioned = {a for allowed in EXPECTED.values() for a in allowed}
    assert mentioned <= set(ACTIONS)
    assert {p.kind for p in PEOPLE.values()} == {
        "practitioner",
        "family",
        "auditor",
        "agency_system",
        "manager",
    }


@pytest.mark.parametrize(
    ("persona", "relationship"),
    [
        ("lead", "lead"),
        ("member", "member"),
        ("line_manager", "line_manager"),
        ("other_manager", "none"),
        ("pending", "pending"),
        ("break_glass", "break_glass"),
        ("expired_glass", "none"),
        ("left", "none"),
        ("parent", "family"),
        ("child", "family"),
        ("other_family", "none"),
        ("auditor", "auditor"),
        ("agency_system", "agency_system"),
    ],
)
def test_relationships_are_read_from_the_snapshot(persona: str, relationship: str) -> None:
    assert relationship_to(PEOPLE[persona], ACCESS, NOW) == relationship


def test_without_an_account_nobody_sees_anything_about_the_child() -> None:
    for persona in PEOPLE:
        for action in set(ACTIONS) - UNSCOPED_ACTIONS:
            decision = decide(PEOPLE[persona], action, None, now=NOW)  # type: ignore[arg-type]
            if action == "read_viewers" and persona == "auditor":
                continue  # an auditor reviews the access log of any child id, even one that never existed
            assert not decision.allowed, (persona, action)


def test_a_family_member_of_another_child_is_told_they_are_not_linked() -> None:
    decision = decide(PEOPLE["other_family"], "view_header", ACCESS, now=NOW)
    assert not decision.allowed
    assert "not linked to this child" in decision.reason


def test_after_leaving_the_team_a_practitioner_has_no_access() -> None:
    before = _access()
    after = before.model_copy(update={"members": tuple(m for m in before.members if m.person_id != "member")})
    assert decide(PEOPLE["member"], "read_chronology", before, now=NOW).allowed
    decision = decide(PEOPLE["member"], "read_chronology", after, now=NOW)
    assert not decision.allowed
    assert "no legitimate relationship" in decision.reason


def test_break_glass_expires_at_its_limit_and_is_read_only() -> None:
    grant = ACCESS.active_grant("break_glass", NOW)
    assert grant is not None
    decision = decide(PEOPLE["break_glass"], "read_chronology", ACCESS, now=NOW)
    assert decision.break_glass and decision.break_glass_expires_at == grant.expires_at
    assert "break-glass" in decision.reason and grant.reason in decision.reason
    assert not decide(PEOPLE["break_glass"], "read_chronology", ACCESS, now=grant.expires_at).allowed
    assert not decide(PEOPLE["break_glass"], "post_forum", ACCESS, now=NOW).allowed
    assert not decide(PEOPLE["break_glass"], "export", ACCESS, now=NOW).allowed


def test_a_shielded_childs_address_is_for_the_lead_and_managers_only() -> None:
    shielded = _access(shielded=True)
    see = {p: decide(PEOPLE[p], "view_header", shielded, now=NOW).see_address for p in PEOPLE}
    assert {p for p, yes in see.items() if yes} == {"lead", "manager_member", "line_manager"}
    unshielded = {p: decide(PEOPLE[p], "view_header", ACCESS, now=NOW).see_address for p in PEOPLE}
    assert {p for p, yes in unshielded.items() if yes} == {
        "lead",
        "member",
        "manager_member",
        "line_manager",
        "break_glass",
        "parent",
        "child",
    }


def test_sensitive_service_providers_are_visible_to_the_lead_and_managers_only() -> None:
    see = {p: decide(PEOPLE[p], "view_header", ACCESS, now=NOW).see_sensitive_providers for p in PEOPLE}
    assert {p for p, yes in see.items() if yes} == {"lead", "manager_member", "line_manager"}


def test_search_results_show_identity_only_unless_the_searcher_may_see_the_account() -> None:
    shielded = _access(shielded=True)
    for persona, access, view in [
        ("member", ACCESS, "full"),
        ("non_member", ACCESS, "identity_only"),
        ("pending", ACCESS, "identity_only"),
        ("member", shielded, "identity_only"),
        ("lead", shielded, "full"),
    ]:
        decision = decide(PEOPLE[persona], "view_header", access, now=NOW)
        assert search_view(decision, access) == view, persona


def test_the_lead_cannot_leave_without_handing_over() -> None:
    decision = decide(PEOPLE["lead"], "leave", ACCESS, now=NOW)
    assert not decision.allowed
    assert "hand over" in decision.reason


def test_auditors_never_read_the_case() -> None:
    for action in READ_ACTIONS | {"export", "post_forum"}:
        decision = decide(PEOPLE["auditor"], action, ACCESS, now=NOW)  # type: ignore[arg-type]
        assert not decision.allowed
        assert "audit log only" in decision.reason


def test_the_policy_is_pure_and_the_snapshot_is_immutable() -> None:
    first = [decide(PEOPLE[p], a, ACCESS, now=NOW) for p in PEOPLE for a in ACTIONS]  # type: ignore[arg-type]
    second = [decide(PEOPLE[p], a, ACCESS, now=NOW) for p in PEOPLE for a in ACTIONS]  # type: ignore[arg-type]
    assert first == second
    with pytest.raises(ValueError):
        ACCESS.lead_id = "someone-else"  # type: ignore[misc]
