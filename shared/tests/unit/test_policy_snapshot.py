"""The access snapshot every service keeps: folding account events, idempotently, into what the policy reads."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from shared.access import AccessGap, apply_event, fold, from_document, to_document
from shared.contracts.accounts import (
    AccessDecisionRecorded,
    AccountEvent,
    Actor,
    BreakGlassUsed,
    ChildFlagsChanged,
    ChildRegistered,
    FamilyLinked,
    FamilyUnlinked,
    JoinApproved,
    JoinDeclined,
    JoinRequested,
    LeadHandedOver,
    MemberLeft,
    MemberRemoved,
    PersonRef,
    account_event,
    decode_account_event,
)
from shared.policy import Principal, decide
from testsupport.events import account_opened

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
ACTOR = Actor(person_id="p-lead", name="Lead", kind="practitioner", agency="socialcare")
LEAD = PersonRef(person_id="p-lead", name="Lead", kind="practitioner", agency="socialcare")
NURSE = PersonRef(
    person_id="p-nurse", name="Nurse", kind="practitioner", agency="health", sensitive_service=True
)
TEACHER = PersonRef(person_id="p-teacher", name="Teacher", kind="practitioner", agency="school")


def _history() -> list[AccountEvent]:
    common = {"child_id": "c1", "actor": ACTOR}
    return [
        ChildRegistered(
            **common,
            seq=1,
            at=T0,
            nhs_number="9434765919",
            given_name="Amy",
            family_name="Example",
            date_of_birth=date(2015, 4, 2),
            lead=LEAD,
        ),
        JoinRequested(**common, seq=2, at=T0, request_id="r1", person=TEACHER, reason="school DSL"),
        JoinRequested(**common, seq=3, at=T0, request_id="r2", person=NURSE, reason="clinic"),
        JoinApproved(**common, seq=4, at=T0, request_id="r1", person=TEACHER),
        AccessDecisionRecorded(
            **common,
            seq=5,
            at=T0,
            decision_id="d1",
            shared=True,
            person_id="p-teacher",
            decision="join_approved",
            reason="ok",
        ),
        JoinApproved(**common, seq=6, at=T0, request_id="r2", person=NURSE),
        FamilyLinked(**common, seq=7, at=T0, person_id="p-parent", name="Parent", relationship="parent"),
        BreakGlassUsed(
            **common,
            seq=8,
            at=T0,
            grant_id="g1",
            person=PersonRef(person_id="p-doc", name="Doc", kind="practitioner", agency="health"),
            reason="A&E",
            expires_at=T0 + timedelta(hours=4),
            lead_id="p-lead",
        ),
        ChildFlagsChanged(**common, seq=9, at=T0, shielded=True, sensitive_service=True, reason="refuge"),
    ]


def test_a_childs_history_folds_into_its_snapshot() -> None:
    access = fold(None, _history())
    assert access is not None
    assert access.seq == 9 and access.lead_id == "p-lead" and access.lead_agency == "socialcare"
    assert [m.person_id for m in access.members] == ["p-lead", "p-teacher", "p-nurse"]
    assert access.member("p-nurse") is not None and access.member("p-nurse").sensitive_service  # type: ignore[union-attr]
    assert access.pending == () and access.family_link("p-parent") is not None
    assert access.active_grant("p-doc", T0) is not None and access.shielded and access.sensitive_service
    assert access.display_name == "Amy Example"


def test_every_event_applied_twice_changes_nothing() -> None:
    once = fold(None, _history())
    twice = fold(once, _history())
    assert twice == once
    interleaved = None
    for event in _history():
        interleaved = apply_event(apply_event(interleaved, event), event)
    assert interleaved == once


def test_an_older_event_arriving_late_changes_nothing() -> None:
    history = _history()
    access = fold(None, history)
    assert apply_event(access, history[3]) == access


def test_events_for_a_child_never_registered_here_are_a_gap_so_access_stays_refused() -> None:
    # The snapshot store turns the gap into a refusal until it is rebuilt (tests of AccessSnapshots).
    with pytest.raises(AccessGap):
        fold(None, _history()[1:])
    parent = Principal(subject="p-parent", name="Parent", kind="family")
    assert not decide(parent, "read_chronology", None, now=T0).allowed


def test_leaving_removing_declining_unlinking_and_handing_over_are_applied() -> None:
    common = {"child_id": "c1", "actor": ACTOR, "at": T0 + timedelta(days=1)}
    later: list[AccountEvent] = [
        MemberLeft(**common, seq=10, person_id="p-teacher"),
        MemberRemoved(**common, seq=11, person_id="p-nurse", reason="case closed at clinic"),
        JoinRequested(**common, seq=12, request_id="r3", person=TEACHER, reason="back again"),
        JoinDeclined(**common, seq=13, request_id="r3", person_id="p-teacher", reason="not needed"),
        FamilyUnlinked(**common, seq=14, person_id="p-parent", reason="court order"),
        JoinRequested(**common, seq=15, request_id="r4", person=TEACHER, reason="new concern"),
        JoinApproved(**common, seq=16, request_id="r4", person=TEACHER),
        LeadHandedOver(**common, seq=17, from_person_id="p-lead", to=TEACHER),
    ]
    access = fold(None, [*_history(), *later])
    assert access is not None
    assert [m.person_id for m in access.members] == ["p-lead", "p-teacher"]
    assert access.lead_id == "p-teacher" and access.lead_agency == "school"
    assert access.pending == () and access.family == ()


def test_expired_break_glass_grants_are_dropped_when_a_new_one_is_added() -> None:
    access = fold(None, _history())
    later = BreakGlassUsed(
        child_id="c1",
        actor=ACTOR,
        seq=10,
        at=T0 + timedelta(days=2),
        grant_id="g2",
        person=TEACHER,
        reason="missing overnight",
        expires_at=T0 + timedelta(days=2, hours=4),
        lead_id="p-lead",
    )
    after = apply_event(access, later)
    assert after is not None and [g.grant_id for g in after.break_glass] == ["g2"]


def test_snapshots_survive_the_round_trip_through_a_document_and_the_wire() -> None:
    access = fold(None, _history())
    assert access is not None
    doc = to_document(access)
    assert doc["_id"] == "c1" and set(doc["people"]) == {"p-lead", "p-teacher", "p-nurse", "p-parent"}
    assert from_document(doc) == access
    for event in _history():
        decoded = decode_account_event("accounts.events", account_event(event).model_dump_json().encode())
        assert decoded.data == event and decoded.subject == "c1"


def test_an_event_that_does_not_follow_the_snapshot_is_a_gap_not_a_guess() -> None:
    registered, linked = (e.data for e in account_opened("c-gap", lead_id="lead", family_id="parent"))
    later = linked.model_copy(update={"seq": 3})
    with pytest.raises(AccessGap, match="jump from seq 1 to seq 3"):
        fold(None, [registered, later])
    with pytest.raises(AccessGap, match="from no registration"):
        fold(None, [linked])
    assert fold(None, [registered, linked]) is not None
