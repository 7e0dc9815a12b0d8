"""Issue 9's rules that live in accounts, each tried through HTTP the way an attacker would: the attempt fails,
and the outcome is on the audit trail."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from accounts.testing import RunningAccounts, new_child_details, running_accounts
from devstack.infra import Endpoints
from shared.contracts.audit import AuditRecorded

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def accounts(infra: Endpoints) -> AsyncIterator[RunningAccounts]:
    async with running_accounts(kafka_bootstrap=infra.kafka_bootstrap, mongo_url=infra.mongo_url) as running:
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
