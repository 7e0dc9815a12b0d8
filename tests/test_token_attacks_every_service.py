"""Every service that serves a child's data refuses every kind of bad token, on every route that needs one.

The apps are built in-process and called over ASGI (no servers, no lifespan): the sign-in check comes before
any read, so a refused token never reaches a database.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from fastapi import FastAPI

from analytics.app import create_app as analytics_app
from analytics.settings import AnalyticsSettings
from chronology.app import create_app as chronology_app
from chronology.settings import ChronologySettings
from devstack.infra import Endpoints
from forum.app import create_app as forum_app
from forum.settings import ForumSettings
from notifications.app import create_app as notifications_app
from notifications.settings import NotificationsSettings
from shared.auth import DEFAULT_AUDIENCE, DEFAULT_ISSUER, Revocations, SigningKey
from shared.contracts.accounts import Actor, PersonDisabled, SessionEnded
from shared.policy import Principal
from testsupport.identities import Identities
from web.app import create_app as web_app
from web.settings import WebSettings

IDS = Identities()
KEY: SigningKey = IDS.issuer._keys[0]
JWKS = json.dumps(IDS.issuer.jwks())
CHILD = "9434765919"
OPEN = {
    "/healthz",
    "/readyz",
    "/metrics",
    "/asyncapi.json",
    "/openapi.json",
    "/docs",
    "/docs/oauth2-redirect",
    "/redoc",
}


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def attacks() -> dict[str, str]:
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "iss": DEFAULT_ISSUER,
        "aud": DEFAULT_AUDIENCE,
        "sub": "lead-practitioner",
        "name": "Lead",
        "kind": "practitioner",
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=5)).timestamp()),
    }

    def signed(key: SigningKey = KEY, **changes: Any) -> str:
        body = {k: v for k, v in {**claims, **changes}.items() if v is not None}
        return jwt.encode(body, key.private_pem, algorithm=key.algorithm, headers={"kid": KEY.kid})

    public_pem = (
        serialization.load_pem_private_key(KEY.private_pem.encode(), None)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    payload = _b64(json.dumps(claims).encode())
    hs_header = _b64(json.dumps({"alg": "HS256", "kid": KEY.kid}).encode())
    hs_signature = _b64(hmac.new(public_pem, f"{hs_header}.{payload}".encode(), hashlib.sha256).digest())
    none_header = _b64(json.dumps({"alg": "none", "kid": KEY.kid}).encode())
    return {
        "alg none": f"{none_header}.{payload}.",
        "hs256 with the public key": f"{hs_header}.{payload}.{hs_signature}",
        "forged signature": signed(SigningKey.generate()),
        "expired": signed(
            iat=int((now - timedelta(hours=2)).timestamp()), exp=int((now - timedelta(hours=1)).timestamp())
        ),
        "wrong issuer": signed(iss="https://idp.elsewhere.example"),
        "wrong audience": signed(aud="another-system"),
        "no expiry": signed(exp=None),
        "garbage": "not-a-token",
    }


APPS: dict[str, Callable[[], FastAPI]] = {
    "chronology": lambda: chronology_app(ChronologySettings(auth_jwks=JWKS)),
    "analytics": lambda: analytics_app(AnalyticsSettings(auth_jwks=JWKS)),
    "forum": lambda: forum_app(ForumSettings(auth_jwks=JWKS)),
    "notifications": lambda: notifications_app(NotificationsSettings(auth_jwks=JWKS)),
    "web": lambda: web_app(WebSettings(auth_jwks=JWKS)),
}


def guarded_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every documented route but the open ones (health, metrics, documents, sign-in, static files)."""
    routes = []
    for path, operations in app.openapi()["paths"].items():
        if path in OPEN or path.startswith(("/sign-in", "/static")):
            continue
        concrete = path.replace("{child_id}", CHILD).replace("{entry_id}", "e1").replace("{person_id}", "p1")
        concrete = (
            concrete.replace("{thread_id}", "t1")
            .replace("{post_id}", "p1")
            .replace("{notification_id}", "n1")
        )
        routes += [(method.upper(), concrete) for method in operations]
    return routes


@pytest.mark.parametrize("service", sorted(APPS))
async def test_every_route_refuses_every_bad_token(service: str) -> None:
    app = APPS[service]()
    routes = guarded_routes(app)
    assert routes, f"{service} has no routes that need a sign-in?"
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1"
    ) as client:
        for attack, token in attacks().items():
            for method, path in routes:
                if service == "web":
                    client.cookies.set("sg_session", token)
                    response = await client.request(method, path)
                    # The web never serves a page on a bad sign-in: it sends the person back to sign in
                    # (or refuses a form outright).
                    refused = response.status_code in (401, 403) or (
                        response.status_code == 303 and response.headers["location"].startswith("/sign-in")
                    )
                else:
                    response = await client.request(
                        method,
                        path,
                        headers={"Authorization": f"Bearer {token}"},
                        json={"significant": True, "reason": "why not"},
                    )
                    refused = response.status_code == 401
                assert refused, (service, attack, method, path, response.status_code, response.text[:200])


async def test_a_good_token_gets_past_sign_in(infra: Endpoints) -> None:
    # The same routes accept a genuine token, so the refusals above are about the tokens. Past sign-in the
    # policy is asked (the real database answers: no account yet) and the access must be audited, which this
    # unstarted app cannot do (no broker running): it refuses with 503, never with 401.
    app = chronology_app(
        ChronologySettings(auth_jwks=JWKS, mongo_url=infra.mongo_url, mongo_db="test_tokens")
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1"
    ) as client:
        token = IDS.token("lead-practitioner")
        response = await client.get(
            f"/children/{CHILD}/chronology", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 503, response.text
        assert "audit log" in response.json()["detail"]


@pytest.mark.parametrize("service", ["chronology", "analytics", "forum", "notifications"])
async def test_every_route_refuses_a_signed_out_or_disabled_accounts_token(service: str) -> None:
    # What each service's revocation list holds once it has read `session.ended` / `person.disabled` from
    # accounts.events (tests/test_tokens_e2e.py shows them arriving there from accounts).
    app = APPS[service]()
    now = datetime.now(UTC)
    actor = Actor(person_id="p-manager", name="A Manager", kind="manager", agency="socialcare")
    revocations: Revocations = app.state.revocations
    until = now + timedelta(minutes=10)
    revocations.apply(
        SessionEnded(
            person_id="p-signed-out",
            actor=actor,
            at=now,
            tokens_until=until,
            session_id="s-ended",
            reason="signed_out",
        )
    )
    revocations.apply(
        PersonDisabled(person_id="p-disabled", actor=actor, at=now, tokens_until=until, reason="left")
    )
    signed_out = Principal(subject="p-signed-out", name="Signed Out", kind="practitioner", agency="school")
    disabled = Principal(subject="p-disabled", name="Disabled", kind="practitioner", agency="school")
    tokens = {
        "signed out": IDS.issuer.issue(signed_out, session_id="s-ended").access_token,
        "disabled": IDS.issuer.issue(disabled, now=now - timedelta(seconds=5)).access_token,
    }
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1"
    ) as client:
        for why, token in tokens.items():
            for method, path in guarded_routes(app):
                response = await client.request(method, path, headers={"Authorization": f"Bearer {token}"})
                assert response.status_code == 401 and "revoked" in response.text, (why, method, path)
