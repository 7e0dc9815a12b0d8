"""Issue 9's rules that live in accounts, each tried through HTTP the way an attacker would: the attempt fails,
and the outcome is on the audit trail."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from accounts.audit.models import entry_from_audit
from accounts.handlers import on_audit_records
from accounts.identity import service as identity
from accounts.teams import service as teams
from devstack.infra import Endpoints
from shared.contracts.audit import AuditRecorded
from shared.contracts.contacts import CONTACT_RECORDED, Author, ChildIdentifiers, ContactRecorded, entry_key
from shared.contracts.identity import ContactIdentified
from shared.events import Envelope, make_event, utc_now
from shared.kafka.consumer import Incoming
from testsupport.accounts import RunningAccounts, new_child_details, running_accounts

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def accounts(infra: Endpoints) -> AsyncIterator[RunningAccounts]:
    async with running_accounts(
        kafka_bootstrap=infra.kafka_bootstrap,
        mongo_url=infra.mongo_url,
        kafka_admin=infra.kafka_admin,
        kafka_credentials=infra.kafka_user("accounts"),
    ) as running:
        for name, kind, agency in [
            ("lead", "practitioner", "socialcare"),
            ("teacher", "practitioner", "school"),
            ("officer", "practitioner", "police"),
            ("manager", "manager", "socialcare"),
            ("police_manager", "manager", "police"),
            ("parent", "family", None),
        ]:
            await running.add_person(name, kind, agency)  # type: ignore[arg-type]
        yield running


async def _post(accounts: RunningAccounts, who: str, path: str, body: Any = None) -> Any:
    return await accounts.client.post(path, json=body, headers=accounts.headers(accounts.people[who]))


async def _get(accounts: RunningAccounts, who: str, path: str) -> Any:
    return await accounts.client.get(path, headers=accounts.headers(accounts.people[who]))


async def _open(accounts: RunningAccounts, who: str = "lead", **changes: Any) -> str:
    body = {**new_child_details().model_dump(mode="json"), **changes}
    response = await _post(accounts, who, "/children", body)
    assert response.status_code == 201, response.text
    return str(response.json()["child_id"])


def _records(accounts: RunningAccounts, since: int, who: str | None = None) -> list[AuditRecorded]:
    assert accounts.audit is not None
    records = [e.data for e in accounts.audit.events[since:]]
    if who is None:
        return records
    return [r for r in records if r.actor_id == accounts.people[who].person_id]


def _mark(accounts: RunningAccounts) -> int:
    assert accounts.audit is not None
    return len(accounts.audit.events)


# --- rule 1: nobody approves their own access ---------------------------------------------------------------


async def test_a_manager_who_asks_to_join_cannot_approve_their_own_request(accounts: RunningAccounts) -> None:
    child_id = await _open(accounts, shielded=True)
    asked = await _post(accounts, "manager", f"/children/{child_id}/join-requests", {"reason": "supervising"})
    assert asked.status_code == 201, asked.text
    request_id = asked.json()["request_id"]
    assert child_id not in {
        c["child_id"] for c in (await _get(accounts, "manager", "/me/join-requests")).json()
    }
    since = _mark(accounts)
    own = await _post(accounts, "manager", f"/children/{child_id}/join-requests/{request_id}/approve", {})
    assert own.status_code == 403 and "own request" in own.json()["detail"]
    [refusal] = _records(accounts, since, "manager")
    assert refusal.child_id == child_id and not refusal.allowed and refusal.action == "approve_join"
    chronology = await _get(accounts, "manager", f"/children/{child_id}/viewers")
    assert chronology.status_code == 200  # a line manager sees who looked, but is still no member:
    assert (await _get(accounts, "manager", f"/children/{child_id}")).json()["relationship"] == "line_manager"
    lead = await _post(accounts, "lead", f"/children/{child_id}/join-requests/{request_id}/approve", {})
    assert lead.status_code == 200, lead.text


async def test_whoever_made_a_family_account_cannot_link_it_to_a_child(accounts: RunningAccounts) -> None:
    child_id = await _open(accounts)
    made = await _post(
        accounts,
        "lead",
        "/people",
        {"username": f"fam.{uuid.uuid4().hex[:8]}", "name": "A Carer", "kind": "family"},
    )
    assert made.status_code == 201, made.text
    person_id = made.json()["person_id"]
    since = _mark(accounts)
    linked = await _post(
        accounts, "lead", f"/children/{child_id}/family", {"person_id": person_id, "relationship": "carer"}
    )
    assert linked.status_code == 403 and "made this family account" in linked.json()["detail"]
    [refusal] = _records(accounts, since, "lead")
    assert refusal.child_id == child_id and not refusal.allowed
    header = (await _get(accounts, "lead", f"/children/{child_id}")).json()
    assert header["family"] == []
    by_manager = await _post(
        accounts, "manager", f"/children/{child_id}/family", {"person_id": person_id, "relationship": "carer"}
    )
    assert by_manager.status_code == 200, by_manager.text


async def test_nobody_approves_a_request_from_an_account_they_made(accounts: RunningAccounts) -> None:
    child_id = await _open(accounts)
    username = f"sock.{uuid.uuid4().hex[:8]}"
    made = await _post(
        accounts,
        "manager",
        "/people",
        {"username": username, "name": "A Sock", "kind": "practitioner", "agency": "socialcare"},
    )
    assert made.status_code == 201, made.text
    sock = accounts.people["manager"].model_copy(
        update={"person_id": made.json()["person_id"], "kind": "practitioner"}
    )
    asked = await accounts.client.post(
        f"/children/{child_id}/join-requests", json={"reason": "helping"}, headers=accounts.headers(sock)
    )
    assert asked.status_code == 201, asked.text
    approve = f"/children/{child_id}/join-requests/{asked.json()['request_id']}/approve"
    refused = await _post(accounts, "manager", approve, {})
    assert refused.status_code == 403 and "made this person's account" in refused.json()["detail"]
    assert (await _post(accounts, "lead", approve, {})).status_code == 200


@pytest.mark.parametrize(
    ("who", "body"),
    [
        ("teacher", {"kind": "practitioner", "agency": "school"}),
        ("manager", {"kind": "manager", "agency": "socialcare"}),
        ("manager", {"kind": "practitioner", "agency": "police"}),
        ("manager", {"kind": "auditor"}),
        ("parent", {"kind": "family"}),
    ],
)
async def test_accounts_are_made_only_by_the_roles_that_may_and_every_attempt_is_audited(
    accounts: RunningAccounts, who: str, body: dict[str, Any]
) -> None:
    username = f"new.{uuid.uuid4().hex[:8]}"
    since = _mark(accounts)
    response = await _post(accounts, who, "/people", {"username": username, "name": "New Person", **body})
    assert response.status_code == 403, response.text
    [refusal] = _records(accounts, since, who)
    assert refusal.action == "manage_people" and not refusal.allowed and username in (refusal.detail or "")


async def test_making_an_account_is_audited(accounts: RunningAccounts) -> None:
    username = f"staff.{uuid.uuid4().hex[:8]}"
    since = _mark(accounts)
    made = await _post(
        accounts,
        "manager",
        "/people",
        {"username": username, "name": "New Staff", "kind": "practitioner", "agency": "socialcare"},
    )
    assert made.status_code == 201, made.text
    [allowed] = _records(accounts, since, "manager")
    assert allowed.allowed and allowed.action == "manage_people"
    assert made.json()["person_id"] in (allowed.detail or "")


# --- rule 11: every read is audited ---------------------------------------------------------------------------


async def test_the_requests_to_decide_are_recorded_one_record_per_child(accounts: RunningAccounts) -> None:
    children = [await _open(accounts), await _open(accounts)]
    for child_id in children:
        asked = await _post(
            accounts, "teacher", f"/children/{child_id}/join-requests", {"reason": "class teacher"}
        )
        assert asked.status_code == 201
    since = _mark(accounts)
    listed = await _get(accounts, "lead", "/me/join-requests")
    assert set(children) <= {c["child_id"] for c in listed.json()}
    recorded = {r.child_id for r in _records(accounts, since, "lead") if r.action == "list_join_requests"}
    assert set(children) <= recorded


async def test_the_match_list_is_recorded_one_record_per_candidate_child(accounts: RunningAccounts) -> None:
    details = new_child_details(nhs_number="").model_copy(update={"nhs_number": None})
    body = details.model_dump(mode="json")
    existing = await _open(accounts, **body)
    near = await _post(accounts, "lead", "/children", {**body, "family_name": body["family_name"] + "e"})
    assert near.status_code == 202, near.text
    since = _mark(accounts)
    listed = await _get(accounts, "manager", "/matches")
    assert listed.status_code == 200
    assert existing in {c["child_id"] for m in listed.json() for c in m["candidates"]}
    records = [r for r in _records(accounts, since, "manager") if r.action == "list_matches"]
    assert existing in {r.child_id for r in records} and all(r.allowed for r in records)


# --- rule 2: no identity oracle -----------------------------------------------------------------------------


async def test_a_child_route_answers_a_stranger_alike_for_a_child_with_an_account_and_one_without(
    accounts: RunningAccounts,
) -> None:
    shielded = await _open(accounts, shielded=True)
    known = await _open(accounts)
    unknown = new_child_details().nhs_number  # a valid NHS number nobody registered
    for who in ("officer", "parent"):
        answers = [
            await _get(accounts, who, f"/children/{child}{route}")
            for route in ("", "/viewers", "/join-requests")
            for child in (shielded, known, unknown)
        ]
        for same in (answers[0:3], answers[3:6], answers[6:9]):
            assert {a.status_code for a in same} == {403}, [a.text for a in same]
            assert len({a.text for a in same}) == 1, [a.text for a in same]  # word for word
    # Asking to join by id: a shielded child answers as a child without an account does, asked once or
    # twice (a known child may be found by search anyway, and asked to join), and the lead gets the request.
    ask = {"reason": "I am the officer on a missing-episode case"}
    since = _mark(accounts)
    asked = [
        await _post(accounts, "officer", f"/children/{c}/join-requests", ask)
        for c in (shielded, unknown, shielded, unknown)
    ]
    assert {a.status_code for a in asked} == {202} and len({a.text for a in asked}) == 1, asked
    assert (await _post(accounts, "officer", f"/children/{known}/join-requests", ask)).status_code == 201
    [waiting] = (await _get(accounts, "lead", f"/children/{shielded}/join-requests")).json()
    assert waiting["person_id"] == accounts.people["officer"].person_id
    tried = [r.child_id for r in _records(accounts, since, "officer") if r.action == "request_join"]
    assert tried.count(unknown) == 2 and tried.count(shielded) == 1  # the second ask, refused on the record


async def test_a_registration_or_search_refused_for_its_input_is_audited_too(
    accounts: RunningAccounts,
) -> None:
    since = _mark(accounts)
    bad = new_child_details().model_dump(mode="json") | {"nhs_number": "1234567890"}  # fails the check digit
    assert (await _post(accounts, "officer", "/children", bad)).status_code == 422
    assert (await _get(accounts, "officer", "/children/search?nhs_number=1234567890")).status_code == 422
    assert (await _get(accounts, "officer", "/children/search?given_name=Amy")).status_code == 422
    refused = [r for r in _records(accounts, since, "officer") if not r.allowed]
    assert [r.action for r in refused] == ["register_child", "search", "search"], refused
    assert all(r.reason.startswith("refused: ") and r.child_id is None for r in refused)


def _answer(response: Any) -> tuple[int, dict[str, Any]]:
    return response.status_code, {k: v for k, v in response.json().items() if k != "match_id"}


async def test_registering_a_known_child_answers_a_stranger_the_same_for_an_exact_and_a_near_match(
    accounts: RunningAccounts,
) -> None:
    details = new_child_details().model_dump(mode="json")
    child_id = await _open(accounts, shielded=True, **{**details, "nhs_number": None})
    since = _mark(accounts)
    exact = await _post(accounts, "officer", "/children", {**details, "nhs_number": None})
    near = await _post(
        accounts, "officer", "/children", {**details, "nhs_number": None, "given_name": "Tesst"}
    )
    assert exact.status_code == 202, exact.text
    assert _answer(exact) == _answer(near) and exact.json()["child_id"] is None
    held = [r for r in _records(accounts, since, "officer") if r.action == "register_child"]
    assert [r.child_id for r in held].count(child_id) == 2  # on the child's trail, once per attempt
    assert [r.child_id for r in held].count(None) == 2  # and on the officer's own


async def test_registering_a_known_nhs_number_answers_a_stranger_as_a_near_match_does(
    accounts: RunningAccounts,
) -> None:
    details = new_child_details().model_dump(mode="json")
    child_id = await _open(accounts, shielded=True, **details)
    exact = await _post(accounts, "officer", "/children", details)
    near_details = {**details, "nhs_number": None, "family_name": details["family_name"] + "e"}
    await _open(accounts, "teacher", **{**new_child_details().model_dump(mode="json"), "nhs_number": None})
    near = await _post(accounts, "officer", "/children", near_details)
    assert exact.status_code == near.status_code == 202
    assert _answer(exact) == _answer(near)
    assert child_id not in exact.text


async def test_a_shielded_child_is_not_found_by_a_searcher_without_a_relationship(
    accounts: RunningAccounts,
) -> None:
    details = new_child_details()
    child_id = await _open(accounts, shielded=True, **details.model_dump(mode="json"))
    nobody = new_child_details().nhs_number
    since = _mark(accounts)
    found = await _get(accounts, "officer", f"/children/search?nhs_number={child_id}")
    missing = await _get(accounts, "officer", f"/children/search?nhs_number={nobody}")
    by_name = await _get(
        accounts,
        "officer",
        f"/children/search?given_name={details.given_name}&family_name={details.family_name}"
        f"&date_of_birth={details.date_of_birth.isoformat()}",
    )
    assert found.status_code == missing.status_code == by_name.status_code == 200
    assert found.json() == missing.json() == by_name.json() == []
    withheld = [r for r in _records(accounts, since, "officer") if r.child_id == child_id]
    assert len(withheld) == 2 and all("not shown" in (r.detail or "") for r in withheld)
    [mine] = (await _get(accounts, "lead", f"/children/search?nhs_number={child_id}")).json()
    assert mine["child_id"] == child_id


# --- rule 3: matches go to the right person and can only pick a candidate ---------------------------------


async def _near_registration(accounts: RunningAccounts, *, shielded: bool = False) -> tuple[str, str]:
    """A child of the lead's (social care) and a near registration of them by the police officer."""
    body = new_child_details().model_copy(update={"nhs_number": None}).model_dump(mode="json")
    existing = await _open(accounts, shielded=shielded, **body)
    near = await _post(accounts, "officer", "/children", {**body, "family_name": body["family_name"] + "e"})
    assert near.status_code == 202, near.text
    return existing, str(near.json()["match_id"])


async def test_a_match_goes_only_to_the_managers_responsible_for_its_candidates(
    accounts: RunningAccounts,
) -> None:
    existing, match_id = await _near_registration(accounts, shielded=True)
    mine = {m["match_id"]: m for m in (await _get(accounts, "manager", "/matches")).json()}
    assert [c["child_id"] for c in mine[match_id]["candidates"]] == [existing]
    theirs = (await _get(accounts, "police_manager", "/matches")).json()
    assert match_id not in {m["match_id"] for m in theirs}
    assert existing not in {c["child_id"] for m in theirs for c in m["candidates"]}
    since = _mark(accounts)
    refused = await _post(
        accounts, "police_manager", f"/matches/{match_id}/resolve", {"same_child_id": existing}
    )
    assert refused.status_code == 403
    [refusal] = _records(accounts, since, "police_manager")
    assert refusal.action == "resolve_match" and not refusal.allowed


async def test_a_match_can_only_pick_a_candidate_and_then_becomes_a_request_to_join(
    accounts: RunningAccounts,
) -> None:
    existing, match_id = await _near_registration(accounts)
    other = await _open(accounts)
    wrong = await _post(accounts, "manager", f"/matches/{match_id}/resolve", {"same_child_id": other})
    assert wrong.status_code == 422
    since = _mark(accounts)
    same = await _post(accounts, "manager", f"/matches/{match_id}/resolve", {"same_child_id": existing})
    assert same.status_code == 200 and same.json()["child_id"] == existing
    [resolved] = [r for r in _records(accounts, since, "manager") if r.action == "resolve_match"]
    assert resolved.child_id == existing and resolved.allowed
    requests = (await _get(accounts, "lead", f"/children/{existing}/join-requests")).json()
    assert [r["person_id"] for r in requests] == [accounts.people["officer"].person_id]


async def test_a_registration_of_a_shielded_child_confirmed_by_a_manager_becomes_a_request_to_join(
    accounts: RunningAccounts,
) -> None:
    existing, match_id = await _near_registration(accounts, shielded=True)
    same = await _post(accounts, "manager", f"/matches/{match_id}/resolve", {"same_child_id": existing})
    assert same.status_code == 200, same.text
    [request] = (await _get(accounts, "lead", f"/children/{existing}/join-requests")).json()
    assert request["person_id"] == accounts.people["officer"].person_id and match_id in request["reason"]


async def test_a_same_child_resolution_that_dies_halfway_loses_no_request_when_it_is_made_again(
    accounts: RunningAccounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    existing, match_id = await _near_registration(accounts)
    real = teams.request_join

    async def dies(**kwargs: Any) -> Any:
        raise ConnectionError("the process died here")

    monkeypatch.setattr(teams, "request_join", dies)
    with contextlib.suppress(ConnectionError):  # raised through the in-process client, or answered 500
        first = await _post(accounts, "manager", f"/matches/{match_id}/resolve", {"same_child_id": existing})
        assert first.status_code == 500
    monkeypatch.setattr(teams, "request_join", real)

    again = await _post(accounts, "manager", f"/matches/{match_id}/resolve", {"same_child_id": existing})
    assert again.status_code == 200, again.text
    requests = (await _get(accounts, "lead", f"/children/{existing}/join-requests")).json()
    assert [r["person_id"] for r in requests] == [accounts.people["officer"].person_id]


def _contact(child: dict[str, Any]) -> Envelope[ContactRecorded]:
    data = ContactRecorded(
        agency="health",
        author=Author(name="A Nurse", role="school nurse"),
        child=ChildIdentifiers(**child),
        occurred_at=utc_now(),
        contact_type="health_appointment",
        summary="Missed appointment",
        impact="negative",
    )
    return make_event(type=CONTACT_RECORDED, source="health", subject="-", data=data)


async def _waiting_contact(accounts: RunningAccounts) -> tuple[str, str]:
    details = new_child_details().model_copy(update={"nhs_number": None})
    existing = await _open(accounts, **details.model_dump(mode="json"))
    event = _contact(
        {
            "given_name": details.given_name + "a",
            "family_name": details.family_name,
            "date_of_birth": details.date_of_birth,
            "postcode": details.postcode,
        }
    )

    async def publish(identified: Envelope[ContactIdentified]) -> None:
        raise AssertionError("a near match is never identified without a person")

    ctx = accounts.ctx
    held = await identity.identify_contacts(
        children=ctx.store, matches=ctx.contacts, publish=publish, events=[event]
    )
    assert held == (0, 1)
    return existing, entry_key(event.data.agency, event.id)


async def test_two_agencies_contacts_with_one_event_id_both_wait_for_a_person(
    accounts: RunningAccounts,
) -> None:
    details = new_child_details().model_copy(update={"nhs_number": None})
    await _open(accounts, **details.model_dump(mode="json"))
    near = {
        "given_name": details.given_name + "a",
        "family_name": details.family_name,
        "date_of_birth": details.date_of_birth,
        "postcode": details.postcode,
    }
    health = _contact(near)
    school = health.model_copy(update={"data": health.data.model_copy(update={"agency": "school"})})

    async def publish(identified: Envelope[ContactIdentified]) -> None:
        raise AssertionError("a near match is never identified without a person")

    ctx = accounts.ctx
    for event in (health, school):  # the same event id, reused by another agency
        held = await identity.identify_contacts(
            children=ctx.store, matches=ctx.contacts, publish=publish, events=[event]
        )
        assert held == (0, 1)
    waiting = {c["id"] for c in (await _get(accounts, "manager", "/contact-matches")).json()}
    assert {f"health:{health.id}", f"school:{health.id}"} <= waiting


async def test_a_waiting_contact_goes_only_to_the_managers_responsible_and_can_only_pick_a_candidate(
    accounts: RunningAccounts,
) -> None:
    existing, contact_id = await _waiting_contact(accounts)
    since = _mark(accounts)
    mine = {c["id"]: c for c in (await _get(accounts, "manager", "/contact-matches")).json()}
    assert mine[contact_id]["candidates"] == [existing]
    assert existing in {r.child_id for r in _records(accounts, since, "manager")}
    theirs = (await _get(accounts, "police_manager", "/contact-matches")).json()
    assert contact_id not in {c["id"] for c in theirs}
    path = f"/contact-matches/{contact_id}/resolve"
    assert (await _post(accounts, "police_manager", path, {"child_id": existing})).status_code == 403
    other = await _open(accounts)
    assert (await _post(accounts, "manager", path, {"child_id": other})).status_code == 422
    since = _mark(accounts)
    done = await _post(accounts, "manager", path, {"child_id": existing})
    assert done.status_code == 200 and done.json()["status"] == "identified"
    [resolved] = [r for r in _records(accounts, since, "manager") if r.action == "resolve_match"]
    assert resolved.child_id == existing and "this child" in (resolved.detail or "")
    assert (await _post(accounts, "manager", path, {"child_id": existing})).status_code == 409


async def test_a_waiting_contact_can_be_none_of_its_candidates(accounts: RunningAccounts) -> None:
    _, contact_id = await _waiting_contact(accounts)
    done = await _post(accounts, "manager", f"/contact-matches/{contact_id}/resolve", {"child_id": None})
    assert done.status_code == 200 and done.json() == {
        "contact_id": contact_id,
        "status": "no_match",
        "child_id": None,
    }
    assert contact_id not in {c["id"] for c in (await _get(accounts, "manager", "/contact-matches")).json()}


# --- rule 13: break-glass is an exception, not a habit ------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"reason": "child found alone at night, need contacts"},
        {"purpose": "curiosity", "reason": "child found alone at night, need contacts"},
        {"purpose": "missing_child", "reason": "abc"},
        {"purpose": "missing_child", "reason": "need it now please"},
        {"purpose": "missing_child", "reason": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
    ],
)
async def test_break_glass_needs_a_purpose_from_the_list_and_a_reason_of_substance(
    accounts: RunningAccounts, body: dict[str, Any]
) -> None:
    child_id = await _open(accounts)
    refused = await _post(accounts, "officer", f"/children/{child_id}/break-glass", body)
    assert refused.status_code == 422, refused.text
    assert (await _get(accounts, "lead", f"/children/{child_id}")).json()["break_glass"] == []


async def test_break_glass_is_short_is_not_renewed_while_it_lasts_and_says_what_happens(
    accounts: RunningAccounts,
) -> None:
    child_id = await _open(accounts)
    body = {"purpose": "missing_child", "reason": "reported missing tonight, need known contacts"}
    granted = await _post(accounts, "officer", f"/children/{child_id}/break-glass", body)
    assert granted.status_code == 201, granted.text
    expires = datetime.fromisoformat(granted.json()["expires_at"])
    assert expires - datetime.now(UTC) <= timedelta(minutes=30)
    message = granted.json()["message"]
    assert "alerted" not in message and "timeline" in message and "audit" in message
    since = _mark(accounts)
    again = await _post(
        accounts,
        "officer",
        f"/children/{child_id}/break-glass",
        {**body, "reason": "another reason, still missing"},
    )
    assert again.status_code == 403
    [refusal] = _records(accounts, since, "officer")
    assert refusal.action == "break_glass" and not refusal.allowed
    assert len((await _get(accounts, "lead", f"/children/{child_id}")).json()["break_glass"]) == 1


async def test_break_glass_publishes_what_the_leads_alert_needs(accounts: RunningAccounts) -> None:
    child_id = await _open(accounts)
    body = {"purpose": "police_protection", "reason": "taking the child into police protection now"}
    assert (await _post(accounts, "officer", f"/children/{child_id}/break-glass", body)).status_code == 201
    commits = await accounts.ctx.store.commits(child_id)
    [payload] = [e.payload for c in commits for e in c.events if e.type == "break_glass.used"]
    data = json.loads(payload)["data"]
    assert data["lead_id"] == accounts.people["lead"].person_id
    assert data["purpose"] == "police_protection" and data["reason"] == body["reason"]
    assert data["person"]["person_id"] == accounts.people["officer"].person_id and data["expires_at"]
    assert data["previous_uses"] == 0


# --- rule 5: the family sees who looked, as the brief says ---------------------------------------------------


async def test_a_parent_sees_the_practitioners_who_looked_and_other_family_members_only_as_a_count(
    accounts: RunningAccounts,
) -> None:
    child_id = await _open(accounts)
    carer = await accounts.add_person("foster_carer", "family", None, "foster carer")
    gran = await accounts.add_person("gran", "family", None, "grandparent")
    for person, relationship, shown in (
        (accounts.people["parent"], "parent", False),
        (carer, "carer", False),
        (gran, "other", True),
    ):
        linked = await _post(
            accounts,
            "lead",
            f"/children/{child_id}/family",
            {"person_id": person.person_id, "relationship": relationship, "views_shown_to_family": shown},
        )
        assert linked.status_code == 200, linked.text
    since = _mark(accounts)
    for who in ("lead", "parent", "foster_carer", "gran"):
        assert (await _get(accounts, who, f"/children/{child_id}")).status_code == 200
    # what the audit consumer does with the records of audit.events (here kept in memory, in log order)
    assert accounts.audit is not None
    topic = accounts.ctx.topics.audit_events
    records = [
        Incoming(topic, 0, offset, entry_from_audit(e))
        for offset, e in enumerate(accounts.audit.events)
        if offset >= since
    ]
    await on_audit_records(accounts.ctx.audit_store, accounts.ctx.people)(records)

    to_parent = (await _get(accounts, "parent", f"/children/{child_id}/viewers")).json()
    names = {v["name"] for v in to_parent}
    assert {"Lead", "Parent", "Gran"} <= names and "Foster Carer" not in names
    [others] = [v for v in to_parent if v["person_id"] is None]
    assert others["name"] == "Other family members (1)" and others["times"] == 1
    assert carer.person_id not in {v["person_id"] for v in to_parent}
    to_lead = {v["name"] for v in (await _get(accounts, "lead", f"/children/{child_id}/viewers")).json()}
    assert {"Lead", "Parent", "Foster Carer", "Gran"} <= to_lead
