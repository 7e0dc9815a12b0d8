"""Accounts through HTTP against the real MongoDB-wire server and broker: identity, teams, break-glass,
shielding, sign-in and keys, and changes that race."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from devstack.infra import Endpoints
from shared.contracts.audit import AuditRecorded
from shared.events import Envelope
from testsupport.accounts import RunningAccounts, new_child_details, new_nhs_number, running_accounts

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def accounts(infra: Endpoints) -> AsyncIterator[RunningAccounts]:
    async with running_accounts(
        kafka_bootstrap=infra.kafka_bootstrap,
        kafka_admin=infra.kafka_admin,
        kafka_credentials=infra.kafka_user("accounts"),
        mongo_url=infra.mongo_url,
        demo_password="local-demo-only",
    ) as running:
        for name, kind, agency in [
            ("lead", "practitioner", "socialcare"),
            ("teacher", "practitioner", "school"),
            ("officer", "practitioner", "police"),
            ("nurse", "practitioner", "health"),
            ("manager", "manager", "socialcare"),
            ("parent", "family", None),
        ]:
            await running.add_person(name, kind, agency)  # type: ignore[arg-type]
        await running.add_person("clinic", "practitioner", "health", sensitive_service=True)
        yield running


def _body(**changes: Any) -> dict[str, Any]:
    return {**new_child_details().model_dump(mode="json"), **changes}


async def _post(accounts: RunningAccounts, who: str, path: str, body: Any = None) -> Any:
    return await accounts.client.post(path, json=body, headers=accounts.headers(accounts.people[who]))


async def _get(accounts: RunningAccounts, who: str, path: str) -> Any:
    return await accounts.client.get(path, headers=accounts.headers(accounts.people[who]))


async def _open(accounts: RunningAccounts, **changes: Any) -> str:
    response = await _post(accounts, "lead", "/children", _body(**changes))
    assert response.status_code == 201, response.text
    return str(response.json()["child_id"])


async def _join(accounts: RunningAccounts, child_id: str, who: str) -> None:
    asked = await _post(
        accounts, who, f"/children/{child_id}/join-requests", {"reason": "working with the child"}
    )
    if asked.status_code == 202:  # a shielded child: sent blind, and the lead finds it waiting
        pending = (await _get(accounts, "lead", f"/children/{child_id}/join-requests")).json()
        [asked_for] = [r for r in pending if r["person_id"] == accounts.people[who].person_id]
        request_id = asked_for["request_id"]
    else:
        assert asked.status_code == 201, asked.text
        request_id = asked.json()["request_id"]
    approved = await _post(accounts, "lead", f"/children/{child_id}/join-requests/{request_id}/approve", {})
    assert approved.status_code == 200, approved.text


# --- identity ----------------------------------------------------------------------------------------------


async def test_a_child_with_a_valid_nhs_number_is_known_by_it(accounts: RunningAccounts) -> None:
    nhs = new_nhs_number()
    child_id = await _open(accounts, nhs_number=f"{nhs[:3]} {nhs[3:6]} {nhs[6:]}")
    assert child_id == nhs
    header = (await _get(accounts, "lead", f"/children/{child_id}")).json()
    assert header["relationship"] == "lead" and header["nhs_number"] == nhs


async def test_a_bad_check_digit_is_refused_with_the_reason(accounts: RunningAccounts) -> None:
    nhs = new_nhs_number()
    wrong = nhs[:9] + str((int(nhs[9]) + 1) % 10)
    response = await _post(accounts, "lead", "/children", _body(nhs_number=wrong))
    assert response.status_code == 422
    assert "check digit" in response.json()["detail"]
    short = await _post(accounts, "lead", "/children", _body(nhs_number="12345"))
    assert short.status_code == 422 and "10 digits" in short.json()["detail"]


async def test_without_an_nhs_number_the_postcode_is_needed_to_match(accounts: RunningAccounts) -> None:
    response = await _post(accounts, "lead", "/children", _body(nhs_number=None, postcode=None))
    assert response.status_code == 422 and "postcode" in response.json()["detail"]
    child_id = await _open(accounts, nhs_number=None)
    assert child_id.startswith("c-")


async def test_a_second_account_for_the_same_nhs_number_is_refused_with_the_existing_child_to_its_team(
    accounts: RunningAccounts,
) -> None:
    child_id = await _open(accounts)
    again = await _post(accounts, "lead", "/children", _body(nhs_number=child_id))
    assert again.status_code == 409
    assert again.json()["child_id"] == child_id
    stranger = await _post(accounts, "teacher", "/children", _body(nhs_number=child_id))
    assert stranger.status_code == 202 and stranger.json()["child_id"] is None


async def test_an_exact_match_without_nhs_number_points_its_team_to_the_existing_child(
    accounts: RunningAccounts,
) -> None:
    body = _body(nhs_number=None)
    child_id = await _open(accounts, **body)
    again = await _post(accounts, "lead", "/children", {**body, "given_name": body["given_name"].upper()})
    assert again.status_code == 409 and again.json()["child_id"] == child_id


async def test_an_uncertain_match_waits_for_a_manager_and_is_never_merged(accounts: RunningAccounts) -> None:
    body = _body(nhs_number=None)
    existing = await _open(accounts, **body)
    close = {**body, "family_name": body["family_name"] + "e"}
    waiting = await _post(accounts, "teacher", "/children", close)
    assert waiting.status_code == 202
    match_id = waiting.json()["match_id"]
    assert (
        await _get(
            accounts,
            "teacher",
            f"/children/search?given_name={close['given_name']}&family_name={close['family_name']}&date_of_birth={close['date_of_birth']}",
        )
    ).json() == []

    matches = (await _get(accounts, "manager", "/matches")).json()
    [mine] = [m for m in matches if m["match_id"] == match_id]
    [candidate] = mine["candidates"]
    assert candidate["child_id"] == existing and candidate["view"] == "identity_only"
    assert candidate["address"] is None

    resolved = await _post(accounts, "manager", f"/matches/{match_id}/resolve", {"same_child_id": None})
    assert resolved.status_code == 200 and resolved.json()["status"] == "new_child"
    new_child = resolved.json()["child_id"]
    assert new_child != existing
    header = (await _get(accounts, "teacher", f"/children/{new_child}")).json()
    assert header["relationship"] == "lead"  # the practitioner who asked leads the new account
    twice = await _post(accounts, "manager", f"/matches/{match_id}/resolve", {"same_child_id": existing})
    assert twice.status_code == 409


async def test_a_manager_can_confirm_it_is_the_same_child(accounts: RunningAccounts) -> None:
    body = _body(nhs_number=None)
    existing = await _open(accounts, **body)
    waiting = await _post(accounts, "teacher", "/children", {**body, "nhs_number": new_nhs_number()})
    assert waiting.status_code == 202
    match_id = waiting.json()["match_id"]
    wrong = await _post(accounts, "manager", f"/matches/{match_id}/resolve", {"same_child_id": "c-unrelated"})
    assert wrong.status_code == 422
    same = await _post(accounts, "manager", f"/matches/{match_id}/resolve", {"same_child_id": existing})
    assert same.status_code == 200 and same.json()["child_id"] == existing


# --- the team ----------------------------------------------------------------------------------------------


async def test_asking_approving_reading_and_leaving(accounts: RunningAccounts) -> None:
    child_id = await _open(accounts)
    assert (await _get(accounts, "teacher", f"/children/{child_id}")).status_code == 403
    asked = await _post(accounts, "teacher", f"/children/{child_id}/join-requests", {"reason": "Amy's DSL"})
    request_id = asked.json()["request_id"]
    waiting = (await _get(accounts, "lead", "/me/join-requests")).json()
    assert any(c["child_id"] == child_id and c["requests"][0]["reason"] == "Amy's DSL" for c in waiting)
    approved = await _post(accounts, "lead", f"/children/{child_id}/join-requests/{request_id}/approve", {})
    assert approved.status_code == 200
    header = (await _get(accounts, "teacher", f"/children/{child_id}")).json()
    assert header["relationship"] == "member"
    assert {m["name"] for m in header["team"]} == {"Lead", "Teacher"}
    assert child_id in {c["child_id"] for c in (await _get(accounts, "teacher", "/me/children")).json()}

    left = await _post(accounts, "teacher", f"/children/{child_id}/leave")
    assert left.status_code == 204
    after = await _get(accounts, "teacher", f"/children/{child_id}")
    assert after.status_code == 403 and "no legitimate relationship" in after.json()["detail"]
    assert child_id not in {c["child_id"] for c in (await _get(accounts, "teacher", "/me/children")).json()}


async def test_a_declined_request_is_gone_and_the_practitioner_may_ask_again(
    accounts: RunningAccounts,
) -> None:
    child_id = await _open(accounts)
    asked = await _post(accounts, "officer", f"/children/{child_id}/join-requests", {"reason": "callout"})
    request_id = asked.json()["request_id"]
    declined = await _post(
        accounts, "lead", f"/children/{child_id}/join-requests/{request_id}/decline", {"reason": "no role"}
    )
    assert declined.status_code == 200
    again = await _post(accounts, "lead", f"/children/{child_id}/join-requests/{request_id}/approve", {})
    assert again.status_code == 409
    assert (await _get(accounts, "lead", f"/children/{child_id}/join-requests")).json() == []
    retry = await _post(accounts, "officer", f"/children/{child_id}/join-requests", {"reason": "new callout"})
    assert retry.status_code == 201


async def test_the_lead_hands_over_then_may_leave(accounts: RunningAccounts) -> None:
    child_id = await _open(accounts)
    await _join(accounts, child_id, "teacher")
    refused = await _post(accounts, "lead", f"/children/{child_id}/leave")
    assert refused.status_code == 403 and "hand over" in refused.json()["detail"]
    teacher_id = accounts.people["teacher"].person_id
    handed = await _post(accounts, "lead", f"/children/{child_id}/lead", {"person_id": teacher_id})
    assert handed.status_code == 200
    assert (await _get(accounts, "teacher", f"/children/{child_id}")).json()["relationship"] == "lead"
    assert (await _post(accounts, "lead", f"/children/{child_id}/leave")).status_code == 204


async def test_break_glass_is_recorded_time_limited_read_only_and_alerts_the_lead(
    accounts: RunningAccounts,
) -> None:
    child_id = await _open(accounts)
    granted = await _post(
        accounts,
        "officer",
        f"/children/{child_id}/break-glass",
        {"purpose": "immediate_risk_of_harm", "reason": "child found alone at night"},
    )
    assert granted.status_code == 201
    expires = datetime.fromisoformat(granted.json()["expires_at"])
    assert abs(expires - (datetime.now(UTC) + timedelta(minutes=30))) < timedelta(minutes=1)
    header = (await _get(accounts, "officer", f"/children/{child_id}")).json()
    assert header["relationship"] == "break_glass" and header["break_glass_until"] is not None
    post = await _post(
        accounts, "officer", f"/children/{child_id}/family", {"person_id": "x", "relationship": "parent"}
    )
    assert post.status_code in (403, 404)
    lead_view = (await _get(accounts, "lead", f"/children/{child_id}")).json()
    [grant] = lead_view["break_glass"]
    assert (
        grant["reason"] == "child found alone at night"
        and grant["person_id"] == accounts.people["officer"].person_id
    )
    commits = await accounts.ctx.store.commits(child_id)
    [event] = [e for c in commits for e in c.events if e.type == "break_glass.used"]
    assert '"lead_id":"' + accounts.people["lead"].person_id + '"' in event.payload


async def test_a_shielded_childs_whereabouts_are_for_the_lead_and_managers_only(
    accounts: RunningAccounts,
) -> None:
    child_id = await _open(accounts, shielded=True)
    await _join(accounts, child_id, "teacher")
    lead = (await _get(accounts, "lead", f"/children/{child_id}")).json()
    member = (await _get(accounts, "teacher", f"/children/{child_id}")).json()
    manager = (await _get(accounts, "manager", f"/children/{child_id}")).json()
    assert lead["address"] and lead["school"] and not lead["location_hidden"]
    assert manager["address"] == lead["address"]
    assert member["address"] is None and member["postcode"] is None and member["school"] is None
    assert member["gp"] is None and member["location_hidden"]
    [found] = (await _get(accounts, "teacher", f"/children/search?nhs_number={child_id}")).json()
    assert found["view"] == "identity_only" and found["address"] is None


async def test_sensitive_service_staff_are_hidden_from_ordinary_members_and_the_family(
    accounts: RunningAccounts,
) -> None:
    child_id = await _open(accounts, sensitive_service=True)
    await _join(accounts, child_id, "clinic")
    await _join(accounts, child_id, "teacher")
    linked = await _post(
        accounts,
        "lead",
        f"/children/{child_id}/family",
        {"person_id": accounts.people["parent"].person_id, "relationship": "parent"},
    )
    assert linked.status_code == 200
    names = {
        who: {m["name"] for m in (await _get(accounts, who, f"/children/{child_id}")).json()["team"]}
        for who in ("lead", "teacher", "parent")
    }
    assert "Clinic" in names["lead"]
    assert "Clinic" not in names["teacher"] and "A confidential health service" in names["teacher"]
    assert "Clinic" not in names["parent"]


async def test_concurrent_changes_to_one_child_are_all_kept(accounts: RunningAccounts) -> None:
    # FerretDB 1.24 loses concurrent updates of one document; commits are inserts, so none is lost here.
    child_id = await _open(accounts)
    people = [await accounts.add_person(f"asker{i}", "practitioner", "voluntary") for i in range(8)]
    responses = await asyncio.gather(
        *(
            accounts.client.post(
                f"/children/{child_id}/join-requests",
                json={"reason": "many at once"},
                headers=accounts.headers(p),
            )
            for p in people
        )
    )
    assert [r.status_code for r in responses] == [201] * 8
    child = await accounts.ctx.store.child(child_id)
    assert child is not None and len(child.access.pending) == 8 and child.seq == 9
    requests = (await _get(accounts, "lead", f"/children/{child_id}/join-requests")).json()
    assert len(requests) == 8


# --- sign-in and keys --------------------------------------------------------------------------------------


async def test_demo_users_sign_in_and_their_tokens_verify_anywhere_with_the_jwks(
    accounts: RunningAccounts,
) -> None:
    signed = await accounts.client.post(
        "/auth/token", json={"username": "kerry.example", "password": "local-demo-only"}
    )
    assert signed.status_code == 200
    token = signed.json()["access_token"]
    jwks = (await accounts.client.get("/.well-known/jwks.json")).json()
    key = jwt.PyJWKSet.from_dict(jwks).keys[0]
    claims = jwt.decode(
        token, key.key, algorithms=["ES256"], audience="safeguarding", issuer="safeguarding-accounts"
    )
    assert claims["kind"] == "family" and claims["sub"] == "p-kerry-example"
    me = await accounts.client.get("/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["name"] == "Kerry Example" and "password_hash" not in me.json()
    family_page = await accounts.client.get(
        "/children/9434765919", headers={"Authorization": f"Bearer {token}"}
    )
    assert family_page.json()["view"] == "family"


async def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(accounts: RunningAccounts) -> None:
    wrong = await accounts.client.post("/auth/token", json={"username": "kerry.example", "password": "nope"})
    unknown = await accounts.client.post("/auth/token", json={"username": "nobody", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


async def test_the_signing_key_survives_a_restart(accounts: RunningAccounts, infra: Endpoints) -> None:
    token = accounts.keys.issuer.issue(accounts.people["lead"].principal()).access_token
    async with running_accounts(
        kafka_bootstrap=infra.kafka_bootstrap,
        kafka_admin=infra.kafka_admin,
        kafka_credentials=infra.kafka_user("accounts"),
        mongo_url=infra.mongo_url,
        database=accounts.database,
        keep_database=True,
    ) as restarted:
        assert restarted.keys.issuer.signing_key.kid == accounts.keys.issuer.signing_key.kid
        me = await restarted.client.get("/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200


class _BrokerAway:
    async def send(self, event: Envelope[AuditRecorded]) -> None:
        raise ConnectionError("broker unreachable")


async def test_a_view_that_cannot_be_logged_is_not_served(infra: Endpoints) -> None:
    async with running_accounts(
        kafka_bootstrap=infra.kafka_bootstrap,
        kafka_admin=infra.kafka_admin,
        kafka_credentials=infra.kafka_user("accounts"),
        mongo_url=infra.mongo_url,
        audit_sink=_BrokerAway(),
    ) as broken:
        lead = await broken.add_person("lead", "practitioner", "socialcare")
        opened = await broken.client.post(
            "/children", json=new_child_details().model_dump(mode="json"), headers=broken.headers(lead)
        )
        assert opened.status_code == 201  # a change is its own record: it is committed with its events
        header = await broken.client.get(
            f"/children/{opened.json()['child_id']}", headers=broken.headers(lead)
        )
        assert header.status_code == 503
        assert "cannot be recorded" in header.json()["detail"]
