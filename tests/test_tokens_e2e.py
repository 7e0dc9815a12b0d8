"""Tokens end when they should (issue 9, rule 9), tried through the real stack: accounts and chronology run as
processes on real Kafka and FerretDB, and every call is HTTP.

- signing out ends the session: its token is refused by accounts and by chronology within seconds, and so is
  its refresh token;
- a manager disables an account: its tokens are refused everywhere within seconds, it cannot sign in or
  refresh, and the disabling is in the audit log; only the roles that may do it can;
- access tokens last minutes and are refreshed with a rotated refresh token; a refresh token used twice ends
  the session;
- sign-in is limited per user name and per client, repeated failures lock the name (audited, lapse audited),
  and a locked, unknown or disabled name gets the same answer as a wrong password;
- `POST /people` tells a taken user name only to someone who may make that account (audited, limited).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from accounts.people.sessions import REUSE_GRACE
from devstack.infra import Endpoints
from shared.topics import Topics
from testsupport.accounts import seed_demo
from testsupport.services import IsolatedRun, ServiceProcess, wait_for

pytestmark = pytest.mark.e2e
LOGS = Path(__file__).resolve().parent.parent / ".cache" / "test-logs"
TOPICS = Topics(prefix=f"t{uuid.uuid4().hex[:8]}.")
PASSWORD = f"demo-{uuid.uuid4().hex[:12]}"
AMY = "9434765919"  # demo child; lead sam.okafor, team member tess.morgan
LOCK_WINDOW_S = 4  # the test stack locks a name for seconds, not the production 15 minutes
WITHIN_S = 10.0  # "within seconds": what each revocation must take at most


class Stack:
    def __init__(self, accounts: ServiceProcess, chronology: ServiceProcess) -> None:
        self.accounts = accounts
        self.chronology = chronology
        self._tokens: dict[str, str] = {}

    def token(self, username: str) -> str:
        """An access token of `username` from one sign-in kept for the module (sign-in is rate-limited)."""
        if username not in self._tokens:
            self._tokens[username] = self.tokens(username)["access_token"]
        return self._tokens[username]

    def sign_in(
        self, username: str, password: str = PASSWORD, *, client: str = "198.51.100.1"
    ) -> httpx.Response:
        return httpx.post(
            f"{self.accounts.url}/auth/token",
            json={"username": username, "password": password},
            headers={"X-Forwarded-For": client},
            timeout=10,
        )

    def tokens(self, username: str, password: str = PASSWORD) -> dict[str, Any]:
        response = self.sign_in(username, password, client=f"203.0.113.{uuid.uuid4().int % 250}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def call(self, service: str, method: str, path: str, token: str, **kwargs: Any) -> httpx.Response:
        base = self.accounts.url if service == "accounts" else self.chronology.url
        headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
        return httpx.request(method, base + path, headers=headers, timeout=10, **kwargs)

    def chronology_status(self, token: str) -> int:
        return self.call("chronology", "GET", f"/children/{AMY}/chronology", token).status_code

    def me_status(self, token: str) -> int:
        return self.call("accounts", "GET", "/me", token).status_code

    def refresh(self, refresh_token: str) -> httpx.Response:
        return httpx.post(
            f"{self.accounts.url}/auth/refresh", json={"refresh_token": refresh_token}, timeout=10
        )

    def audit(self, **params: str) -> list[dict[str, Any]]:
        response = self.call("accounts", "GET", "/audit", self.token("ana.audit"), params=params)
        assert response.status_code == 200, response.text
        entries: list[dict[str, Any]] = response.json()
        return entries

    def new_practitioner(self, manager: str = "mia.clarke") -> tuple[str, str, str]:
        """A socialcare practitioner made by `manager`: (person id, user name, password)."""
        username, password = f"sw.{uuid.uuid4().hex[:8]}", f"pw-{uuid.uuid4().hex}"
        body = {
            "username": username,
            "name": "New Worker",
            "kind": "practitioner",
            "agency": "socialcare",
            "role": "social worker",
            "password": password,
        }
        made = self.call("accounts", "POST", "/people", self.token(manager), json=body)
        assert made.status_code == 201, made.text
        return made.json()["person_id"], username, password


@pytest.fixture(scope="module")
def stack(infra: Endpoints) -> Iterator[Stack]:
    run = IsolatedRun.with_topics(infra, topics=TOPICS, log_dir=LOGS)
    accounts = run.service(
        "accounts",
        # The test is the client: it says which address each attempt comes from, as the web does.
        TRUSTED_PROXIES="127.0.0.1",
        SIGNIN_LOCK_AFTER=f"3/{LOCK_WINDOW_S} seconds",
        SIGNIN_LIMIT_PER_CLIENT="20/minute",
    ).start()
    try:
        seed_demo(accounts, password=PASSWORD)
        chronology = run.service("chronology", AUTH_JWKS_URL=f"{accounts.url}/.well-known/jwks.json").start()
        try:
            yield Stack(accounts, chronology)
        finally:
            chronology.stop()
    finally:
        accounts.stop()


def _wait_refused(stack: Stack, token: str, *, what: str) -> None:
    wait_for(
        lambda: stack.me_status(token) == 401 and stack.chronology_status(token) == 401,
        what=what,
        within=WITHIN_S,
    )


# --- signing out --------------------------------------------------------------------------------------------


def test_signing_out_revokes_the_token_in_accounts_and_chronology_and_its_refresh_token(stack: Stack) -> None:
    signed_in = stack.tokens("tess.morgan")
    other_session = stack.tokens("tess.morgan")
    token = signed_in["access_token"]
    assert stack.me_status(token) == 200 and stack.chronology_status(token) == 200

    assert stack.call("accounts", "POST", "/auth/sign-out", token).status_code == 204

    _wait_refused(stack, token, what="the signed-out token refused by accounts and chronology")
    refused = stack.call("chronology", "GET", f"/children/{AMY}/chronology", token)
    assert "signed out" in refused.json()["detail"]
    assert stack.refresh(signed_in["refresh_token"]).status_code == 401
    # One session ended, not every sign-in of the person.
    assert stack.chronology_status(other_session["access_token"]) == 200
    session_id = jwt.decode(token, options={"verify_signature": False})["sid"]
    wait_for(
        lambda: any(session_id in (e["detail"] or "") for e in stack.audit(action="session.ended")),
        what="the sign-out in the audit log",
    )


# --- disabling an account -----------------------------------------------------------------------------------


def test_a_disabled_accounts_tokens_stop_working_everywhere_within_seconds(stack: Stack) -> None:
    person_id, username, password = stack.new_practitioner()
    signed_in = stack.tokens(username, password)
    token = signed_in["access_token"]
    asked = stack.call("accounts", "POST", f"/children/{AMY}/join-requests", token, json={"reason": "new SW"})
    assert asked.status_code == 201, asked.text
    approve = f"/children/{AMY}/join-requests/{asked.json()['request_id']}/approve"
    lead = stack.token("sam.okafor")
    assert stack.call("accounts", "POST", approve, lead, json={}).status_code == 200
    wait_for(lambda: stack.chronology_status(token) == 200, what="the new member reading the chronology")

    manager = stack.token("mia.clarke")
    disabled = stack.call(
        "accounts", "POST", f"/people/{person_id}/disable", manager, json={"reason": "left the council"}
    )
    assert disabled.status_code == 200 and disabled.json()["disabled"] is True, disabled.text

    _wait_refused(stack, token, what="the disabled account's token refused by accounts and chronology")
    assert stack.refresh(signed_in["refresh_token"]).status_code == 401
    wrong = stack.sign_in(username, "not the password", client="198.51.100.77")
    right = stack.sign_in(username, password, client="198.51.100.77")
    assert right.status_code == wrong.status_code == 401 and right.json() == wrong.json()
    wait_for(
        lambda: any(person_id in (e["detail"] or "") for e in stack.audit(action="person.disabled")),
        what="the disabling in the audit log",
    )

    enabled = stack.call("accounts", "POST", f"/people/{person_id}/enable", manager, json={"reason": "back"})
    assert enabled.status_code == 200, enabled.text
    again = stack.tokens(username, password)["access_token"]
    assert stack.chronology_status(again) == 200
    assert stack.chronology_status(token) == 401  # tokens from before the disabling stay refused


@pytest.mark.parametrize(
    ("who", "target"),
    [
        ("tess.morgan", "sam.okafor"),  # not a manager
        ("mia.clarke", "hana.begum"),  # another agency's staff
        ("mia.clarke", "ana.audit"),  # council IT's
        ("mia.clarke", "mia.clarke"),  # herself
    ],
)
def test_only_a_manager_disables_and_only_whom_they_answer_for_audited(
    stack: Stack, who: str, target: str
) -> None:
    target_id = f"p-{target.replace('.', '-')}"  # the demo seed's person ids
    token = stack.token(who)
    refused = stack.call("accounts", "POST", f"/people/{target_id}/disable", token, json={"reason": "trying"})
    assert refused.status_code == 403, refused.text
    actor = f"p-{who.replace('.', '-')}"
    wait_for(
        lambda: any(
            not e["allowed"] and target_id in (e["detail"] or "")
            for e in stack.audit(actor_id=actor, action="manage_people")
        ),
        what="the refused disabling in the audit log",
    )
    assert stack.me_status(stack.token(target)) == 200  # not disabled


# --- short-lived tokens, refreshed --------------------------------------------------------------------------


def test_access_tokens_last_minutes_and_a_refresh_token_is_good_once(stack: Stack) -> None:
    first = stack.tokens("tess.morgan")
    claims = jwt.decode(first["access_token"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 300 and first["expires_in"] <= 300

    second = stack.refresh(first["refresh_token"])
    grace_over = time.monotonic() + REUSE_GRACE.total_seconds()
    assert second.status_code == 200, second.text
    renewed = second.json()
    assert renewed["refresh_token"] != first["refresh_token"]
    assert jwt.decode(renewed["access_token"], options={"verify_signature": False})["sid"] == claims["sid"]
    assert stack.chronology_status(renewed["access_token"]) == 200

    # Someone replays the spent refresh token (after the grace for two tabs refreshing at once): the whole
    # sign-in ends, the thief's and the owner's tokens with it.
    assert stack.refresh(first["refresh_token"]).status_code == 401  # within the grace: refused, no more
    assert stack.chronology_status(renewed["access_token"]) == 200
    wait_for(
        lambda: time.monotonic() > grace_over and stack.refresh(first["refresh_token"]).status_code == 401,
        what="the replay refused after the grace",
        within=REUSE_GRACE.total_seconds() * 3,
    )
    _wait_refused(stack, renewed["access_token"], what="the session's tokens refused after the replay")
    assert stack.refresh(renewed["refresh_token"]).status_code == 401


# --- sign-in limits and locks -------------------------------------------------------------------------------


def test_repeated_failures_lock_the_name_with_the_answer_of_a_wrong_password_audited(stack: Stack) -> None:
    person_id, username, password = stack.new_practitioner()
    client = "198.51.100.20"
    answers = [stack.sign_in(username, "wrong password", client=client) for _ in range(3)]
    locked = stack.sign_in(username, password, client=client)  # the right password, too late
    unknown = [stack.sign_in(f"nobody.{uuid.uuid4().hex[:6]}", "x", client=client) for _ in range(1)]
    ghost = f"ghost.{uuid.uuid4().hex[:6]}"
    ghost_answers = [stack.sign_in(ghost, "wrong password", client=client) for _ in range(4)]
    every = [*answers, locked, *unknown, *ghost_answers]
    assert {r.status_code for r in every} == {401}
    assert len({r.text for r in every}) == 1  # locked, unknown and wrong: one answer
    wait_for(
        lambda: any("locked" in e["reason"] for e in stack.audit(actor_id=person_id, action="sign_in")),
        what="the lock in the audit log",
    )

    # The lock lapses by itself: try again only once its time is up (each try counts against the name).
    lapses_at = time.monotonic() + LOCK_WINDOW_S
    wait_for(
        lambda: (
            time.monotonic() > lapses_at
            and stack.sign_in(username, password, client="198.51.100.21").status_code == 200
        ),
        what="the lock to lapse",
        within=LOCK_WINDOW_S * 3,
    )
    wait_for(
        lambda: any("lapsed" in e["reason"] for e in stack.audit(actor_id=person_id, action="sign_in")),
        what="the lapse in the audit log",
    )


def test_sign_in_is_limited_per_client_and_per_user_name(stack: Stack) -> None:
    client = "198.51.100.30"
    codes = [stack.sign_in(f"probe.{i}", "x", client=client).status_code for i in range(21)]
    assert codes[:20] == [401] * 20 and codes[20] == 429
    limited = stack.sign_in("tess.morgan", PASSWORD, client=client)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    # Another client is not held up by this one.
    assert stack.sign_in("tess.morgan", PASSWORD, client="198.51.100.31").status_code == 200

    name = f"target.{uuid.uuid4().hex[:6]}"
    by_name = [stack.sign_in(name, "x", client=f"192.0.2.{i}").status_code for i in range(11)]
    assert by_name[:10] == [401] * 10 and by_name[10] == 429


# --- POST /people -------------------------------------------------------------------------------------------


def _make(stack: Stack, who: str, body: dict[str, Any]) -> httpx.Response:
    return stack.call("accounts", "POST", "/people", stack.token(who), json=body)


@pytest.mark.parametrize(
    ("who", "kind", "agency"),
    [
        ("kerry.example", "family", None),
        ("tess.morgan", "practitioner", "school"),
        ("ana.audit", "family", None),
    ],
)
def test_someone_who_may_not_make_the_account_learns_nothing_of_a_taken_name(
    stack: Stack, who: str, kind: str, agency: str | None
) -> None:
    body = {"name": "Someone", "kind": kind, "agency": agency}
    taken = _make(stack, who, {**body, "username": "sam.okafor"})
    fresh = _make(stack, who, {**body, "username": f"fresh.{uuid.uuid4().hex[:6]}"})
    assert taken.status_code == fresh.status_code == 403
    assert taken.json()["detail"] == fresh.json()["detail"]


def test_a_taken_name_is_told_to_whoever_may_make_the_account_audited_and_limited(stack: Stack) -> None:
    body = {"name": "A Carer", "kind": "family"}
    answers = [_make(stack, "hana.begum", {**body, "username": "kerry.example"}) for _ in range(6)]
    assert [a.status_code for a in answers] == [409] * 5 + [429]
    assert "taken" in answers[0].json()["detail"]
    wait_for(
        lambda: any(
            not e["allowed"] and "taken" in e["reason"]
            for e in stack.audit(actor_id="p-hana-begum", action="manage_people")
        ),
        what="the taken name in the audit log",
    )
