"""Accounts' pure rules: identity matching and team changes (no servers)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from accounts.children.models import Child, ChildDetails, register
from accounts.errors import Conflict, Invalid, NotFound
from accounts.identity.models import match_child
from accounts.people.models import Person, actor_of
from accounts.people.passwords import hash_password, verify_password
from accounts.teams import models as teams
from shared.access import fold
from shared.contracts.accounts import AccessDecisionRecorded, JoinApproved, JoinDeclined
from shared.policy import ChildAccess

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
LEAD = Person(person_id="p-lead", username="lead", name="Lead", kind="practitioner", agency="socialcare")
TEACHER = Person(
    person_id="p-teacher", username="teacher", name="Teacher", kind="practitioner", agency="school"
)
PARENT = Person(person_id="p-parent", username="parent", name="Parent", kind="family", role="parent")
ACTOR = actor_of(LEAD.principal())


def _child(child_id: str, *, nhs: str | None, given: str, family: str, dob: date, postcode: str) -> Child:
    details = ChildDetails(
        nhs_number=nhs, given_name=given, family_name=family, date_of_birth=dob, postcode=postcode
    )
    registered = register(
        child_id=child_id,
        details=details,
        lead=LEAD,
        actor=ACTOR,
        shielded=False,
        sensitive_service=False,
        now=NOW,
    )
    access = fold(None, [registered])
    assert access is not None
    return Child(child_id=child_id, details=details, access=access, created_at=NOW)


DOB = date(2015, 4, 2)
KNOWN = _child("9434765919", nhs="9434765919", given="Amy", family="Example", dob=DOB, postcode="LS6 2AB")
NO_NHS = _child("c-1", nhs=None, given="Ben", family="Sample", dob=DOB, postcode="LS9 1ZZ")


def _new(**changes: object) -> ChildDetails:
    values: dict[str, object] = {
        "nhs_number": None,
        "given_name": "Ben",
        "family_name": "Sample",
        "date_of_birth": DOB,
        "postcode": "LS9 1ZZ",
    }
    values.update(changes)
    return ChildDetails.model_validate(values)


def test_the_same_nhs_number_is_the_same_child() -> None:
    outcome = match_child(_new(nhs_number="9434765919", given_name="Someone"), [KNOWN, NO_NHS])
    assert outcome.kind == "match" and outcome.child_ids == ("9434765919",)


def test_an_exact_unique_name_birth_and_postcode_match_without_nhs_number_is_a_match() -> None:
    outcome = match_child(_new(given_name=" ben ", postcode="ls91zz"), [KNOWN, NO_NHS])
    assert outcome.kind == "match" and outcome.child_ids == ("c-1",)


def test_several_exact_matches_are_uncertain_and_wait_for_a_person() -> None:
    twin = NO_NHS.model_copy(update={"child_id": "c-2"})
    outcome = match_child(_new(), [NO_NHS, twin])
    assert outcome.kind == "uncertain" and set(outcome.child_ids) == {"c-1", "c-2"}


def test_a_close_but_not_equal_name_is_uncertain_never_merged() -> None:
    outcome = match_child(_new(given_name="Benn"), [NO_NHS])
    assert outcome.kind == "uncertain" and outcome.child_ids == ("c-1",)


def test_an_exact_match_on_a_child_without_nhs_number_is_uncertain_when_the_new_record_has_one() -> None:
    outcome = match_child(_new(nhs_number="4010232137"), [NO_NHS])
    assert outcome.kind == "uncertain"


def test_different_nhs_numbers_are_different_children_whatever_the_names() -> None:
    outcome = match_child(
        _new(nhs_number="4010232137", given_name="Amy", family_name="Example", postcode="LS6 2AB"), [KNOWN]
    )
    assert outcome.kind == "new"


def test_a_different_date_of_birth_or_unrelated_names_is_a_new_child() -> None:
    assert match_child(_new(date_of_birth=date(2015, 4, 3)), [NO_NHS]).kind == "new"
    assert match_child(_new(given_name="Zed", family_name="Quark", postcode="N1 1AA"), [NO_NHS]).kind == "new"


def _join(access: ChildAccess, person: Person) -> ChildAccess:
    events = teams.request_join(
        access, person=person, reason="school DSL", request_id="r1", actor=ACTOR, now=NOW
    )
    after = fold(access, events)
    assert after is not None
    return after


def test_approving_a_request_makes_a_member_and_records_the_decision_to_share() -> None:
    asked = _join(KNOWN.access, TEACHER)
    events = teams.approve_join(asked, request_id="r1", reason=None, actor=ACTOR, now=NOW)
    assert [type(e) for e in events] == [JoinApproved, AccessDecisionRecorded]
    assert [e.seq for e in events] == [asked.seq + 1, asked.seq + 2]
    decision = events[1]
    assert (
        isinstance(decision, AccessDecisionRecorded) and decision.shared and "school DSL" in decision.reason
    )
    after = fold(asked, events)
    assert after is not None and after.member("p-teacher") and not after.pending


def test_declining_records_a_decision_not_to_share_with_its_reason() -> None:
    asked = _join(KNOWN.access, TEACHER)
    events = teams.decline_join(asked, request_id="r1", reason="not working with Amy", actor=ACTOR, now=NOW)
    assert isinstance(events[0], JoinDeclined)
    decision = events[1]
    assert isinstance(decision, AccessDecisionRecorded)
    assert not decision.shared and decision.reason == "not working with Amy"


def test_a_request_decided_already_cannot_be_decided_again() -> None:
    asked = _join(KNOWN.access, TEACHER)
    approved = fold(asked, teams.approve_join(asked, request_id="r1", reason=None, actor=ACTOR, now=NOW))
    assert approved is not None
    with pytest.raises(Conflict):
        teams.decline_join(approved, request_id="r1", reason="changed my mind", actor=ACTOR, now=NOW)


def test_asking_twice_or_as_a_member_is_refused() -> None:
    asked = _join(KNOWN.access, TEACHER)
    with pytest.raises(Conflict, match="already asked"):
        _join(asked, TEACHER)
    with pytest.raises(Conflict, match="already in"):
        _join(KNOWN.access, LEAD)


def test_the_lead_must_hand_over_before_leaving_or_being_removed() -> None:
    with pytest.raises(Conflict, match="hand over"):
        teams.leave(KNOWN.access, person_id="p-lead", actor=ACTOR, now=NOW)
    with pytest.raises(Conflict, match="hand the lead"):
        teams.remove_member(KNOWN.access, person_id="p-lead", reason="moving on", actor=ACTOR, now=NOW)


def test_the_lead_goes_only_to_a_team_member() -> None:
    with pytest.raises(Conflict, match="must be in the child's team"):
        teams.hand_over_lead(KNOWN.access, to=TEACHER, reason=None, actor=ACTOR, now=NOW)
    asked = _join(KNOWN.access, TEACHER)
    member = fold(asked, teams.approve_join(asked, request_id="r1", reason=None, actor=ACTOR, now=NOW))
    assert member is not None
    handed = fold(member, teams.hand_over_lead(member, to=TEACHER, reason=None, actor=ACTOR, now=NOW))
    assert handed is not None and handed.lead_id == "p-teacher" and handed.lead_agency == "school"


def test_only_family_accounts_are_linked_as_family() -> None:
    with pytest.raises(Invalid):
        teams.link_family(KNOWN.access, person=TEACHER, relationship="parent", actor=ACTOR, now=NOW)
    linked = fold(
        KNOWN.access,
        teams.link_family(KNOWN.access, person=PARENT, relationship="parent", actor=ACTOR, now=NOW),
    )
    assert linked is not None and linked.family_link("p-parent")
    with pytest.raises(NotFound):
        teams.unlink_family(KNOWN.access, person_id="p-parent", reason="not linked", actor=ACTOR, now=NOW)


def test_break_glass_is_time_limited_and_names_the_lead_to_alert() -> None:
    events = teams.break_glass(
        KNOWN.access,
        person=TEACHER,
        purpose="emergency_medical_treatment",
        reason="A&E, unconscious",
        grant_id="g1",
        duration=timedelta(minutes=30),
        actor=actor_of(TEACHER.principal()),
        now=NOW,
    )
    after = fold(KNOWN.access, events)
    assert after is not None
    grant = after.active_grant("p-teacher", NOW)
    assert grant is not None and grant.expires_at == NOW + timedelta(minutes=30)
    assert after.active_grant("p-teacher", NOW + timedelta(minutes=30)) is None
    assert events[0].model_dump()["lead_id"] == "p-lead"
    assert events[0].model_dump()["purpose"] == "emergency_medical_treatment"


def test_break_glass_is_never_renewed_silently() -> None:
    def use(access: ChildAccess, reason: str, now: datetime) -> ChildAccess:
        events = teams.break_glass(
            access,
            person=TEACHER,
            purpose="missing_child",
            reason=reason,
            grant_id=f"g-{now.isoformat()}",
            duration=timedelta(minutes=30),
            actor=actor_of(TEACHER.principal()),
            now=now,
        )
        after = fold(access, events)
        assert after is not None
        return after

    first = use(KNOWN.access, "missing since last night", NOW)
    with pytest.raises(Conflict):
        use(first, "still missing, new sighting", NOW + timedelta(minutes=10))
    later = NOW + timedelta(hours=1)
    with pytest.raises(Invalid):
        use(first, "Missing since  last night", later)
    events = teams.break_glass(
        first,
        person=TEACHER,
        purpose="missing_child",
        reason="seen at the station, need contacts",
        grant_id="g-2",
        duration=timedelta(minutes=30),
        actor=actor_of(TEACHER.principal()),
        now=later,
    )
    assert events[0].model_dump()["previous_uses"] == 1


def test_passwords_verify_only_against_their_own_hash() -> None:
    stored = hash_password("correct horse battery")
    assert verify_password("correct horse battery", stored)
    assert not verify_password("correct horse battery!", stored)
    assert not verify_password("anything", None)
    assert not verify_password("anything", "md5$nope")
