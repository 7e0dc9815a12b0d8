"""The web keeps a person signed in across short-lived access tokens without bothering them, and signing out
ends the sign-in at accounts (not just the cookie). Backends are faked with httpx's MockTransport."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from shared.policy import Principal
from testsupport.identities import Identities
from web import security
from web.app import create_app
from web.settings import WebSettings

IDS = Identities()
SAM = Principal(subject="p-sam", name="Sam Okafor", kind="practitioner", agency="socialcare")
SESSION = "s-1234"


def token(*, ttl: timedelta, issued: datetime | None = None) -> str:
    now = issued or datetime.now(UTC)
    return IDS.issuer.issue(SAM, now=now, ttl=ttl, session_id=SESSION).access_token


EXPIRED = token(ttl=timedelta(minutes=5), issued=datetime.now(UTC) - timedelta(minutes=10))


class Accounts:
    def __init__(self) -> None:
        self.refreshes: list[dict[str, Any]] = []
        self.sign_outs: list[str] = []
        self.refresh_answer: tuple[int, dict[str, Any]] = (200, {})

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/auth/refresh":
            self.refreshes.append(json.loads(request.content))
            return httpx.Response(self.refresh_answer[0], json=self.refresh_answer[1])
        if path == "/auth/sign-out":
            self.sign_outs.append(request.headers["authorization"])
            return httpx.Response(204)
        if path == "/me/children":
            return httpx.Response(200, json=[])
        if path == "/me/join-requests":
            return httpx.Response(200, json=[])
        return httpx.Response(200, json={"status": "ok"})


@pytest.fixture
def accounts() -> Accounts:
    fake = Accounts()
    fake.refresh_answer = (
        200,
        {
            "access_token": token(ttl=timedelta(minutes=5)),
            "expires_in": 300,
            "refresh_token": "s-1234.new-secret",
            "refresh_expires_at": (datetime.now(UTC) + timedelta(hours=8)).isoformat(),
        },
    )
    return fake


@pytest.fixture
def client(accounts: Accounts) -> Iterator[TestClient]:
    settings = WebSettings(
        accounts_url="http://accounts",
        chronology_url="http://chronology",
        analytics_url="http://analytics",
        auth_jwks=json.dumps(IDS.issuer.jwks()),
        cookie_secure=False,
    )
    app = create_app(settings, transport=httpx.MockTransport(accounts.handle))
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as test_client:
        yield test_client


def _cookies(response: httpx.Response) -> dict[str, str]:
    return {c.split("=", 1)[0]: c for c in response.headers.get_list("set-cookie")}


def test_an_expired_access_token_is_refreshed_unseen_and_the_new_pair_kept(
    client: TestClient, accounts: Accounts
) -> None:
    client.cookies.set(security.SESSION_COOKIE, EXPIRED)
    client.cookies.set(security.REFRESH_COOKIE, "s-1234.old-secret")
    page = client.get("/children")
    assert page.status_code == 200, page.text
    assert accounts.refreshes == [{"refresh_token": "s-1234.old-secret"}]
    cookies = _cookies(page)
    assert "HttpOnly" in cookies["sg_session"] and "SameSite=strict" in cookies["sg_session"]
    assert "s-1234.new-secret" in cookies["sg_refresh"] and "HttpOnly" in cookies["sg_refresh"]


def test_a_token_about_to_end_is_refreshed_before_the_backends_see_it(
    client: TestClient, accounts: Accounts
) -> None:
    issued = datetime.now(UTC) - timedelta(minutes=4, seconds=30)  # its last 30 s of five minutes
    client.cookies.set(security.SESSION_COOKIE, token(ttl=timedelta(minutes=5), issued=issued))
    client.cookies.set(security.REFRESH_COOKIE, "s-1234.old-secret")
    assert client.get("/children").status_code == 200
    assert len(accounts.refreshes) == 1


def test_a_short_token_is_refreshed_only_in_its_last_quarter_so_a_pages_own_requests_do_not_each_refresh(
    client: TestClient, accounts: Accounts
) -> None:
    client.cookies.set(security.SESSION_COOKIE, token(ttl=timedelta(seconds=30)))
    client.cookies.set(security.REFRESH_COOKIE, "s-1234.old-secret")
    assert client.get("/children").status_code == 200
    assert accounts.refreshes == []
    issued = datetime.now(UTC) - timedelta(seconds=25)
    client.cookies.set(security.SESSION_COOKIE, token(ttl=timedelta(seconds=30), issued=issued))
    assert client.get("/children").status_code == 200
    assert len(accounts.refreshes) == 1


def test_a_fresh_token_is_not_refreshed(client: TestClient, accounts: Accounts) -> None:
    client.cookies.set(security.SESSION_COOKIE, token(ttl=timedelta(minutes=5)))
    client.cookies.set(security.REFRESH_COOKIE, "s-1234.old-secret")
    assert client.get("/children").status_code == 200
    assert accounts.refreshes == []


def test_a_refused_refresh_sends_the_browser_to_sign_in_and_forgets_both_cookies(
    client: TestClient, accounts: Accounts
) -> None:
    accounts.refresh_answer = (401, {"detail": "this sign-in has ended; sign in again"})
    client.cookies.set(security.SESSION_COOKIE, EXPIRED)
    client.cookies.set(security.REFRESH_COOKIE, "s-1234.spent")
    page = client.get("/children")
    assert page.status_code == 303 and "done=expired" in page.headers["location"]
    cookies = _cookies(page)
    assert {"sg_session", "sg_refresh"} <= set(cookies)
    assert all(
        '=""' in cookies[name] or "Max-Age=0" in cookies[name] for name in ("sg_session", "sg_refresh")
    )


def test_a_form_shown_before_a_refresh_is_still_accepted_after_it(client: TestClient) -> None:
    before = token(ttl=timedelta(minutes=5), issued=datetime.now(UTC) - timedelta(seconds=5))
    after = token(ttl=timedelta(minutes=5))
    assert before != after
    client.cookies.set(security.SESSION_COOKIE, before)
    page = client.get("/children")
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None
    client.cookies.set(security.SESSION_COOKIE, after)  # as a refresh between showing and sending leaves it
    response = client.post("/sign-out", data={"csrf_token": found.group(1)})
    assert response.status_code == 303 and response.headers["location"] == "/sign-in?done=signed_out"


def test_signing_out_ends_the_sign_in_at_accounts_and_forgets_the_cookies(
    client: TestClient, accounts: Accounts
) -> None:
    signed_in = token(ttl=timedelta(minutes=5))
    client.cookies.set(security.SESSION_COOKIE, signed_in)
    client.cookies.set(security.REFRESH_COOKIE, "s-1234.secret")
    response = client.post("/sign-out", data={"csrf_token": security.csrf_token(SESSION)})
    assert response.status_code == 303
    assert accounts.sign_outs == [f"Bearer {signed_in}"]
    assert {"sg_session", "sg_refresh"} <= set(_cookies(response))
