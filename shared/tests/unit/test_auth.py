"""Token issuing and verification: every attack in issue 4 is rejected, with a reason."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from shared.auth import (
    AuthSettings,
    KeysUnavailable,
    Principal,
    PrincipalDep,
    RemoteJwks,
    SigningKey,
    StaticKeys,
    TokenIssuer,
    TokenRejected,
    TokenVerifier,
    install_verifier,
    jwk_thumbprint,
    verifier_from_settings,
)
from shared.errors import SHARED_STATUSES, install_error_statuses

ISSUER = "https://accounts.example"
AUDIENCE = "safeguarding"
ALICE = Principal(
    subject="p-alice", name="Alice Social", kind="practitioner", agency="socialcare", role="social_worker"
)


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return SigningKey.generate()


@pytest.fixture(scope="module")
def issuer(key: SigningKey) -> TokenIssuer:
    return TokenIssuer(keys=[key], issuer=ISSUER, audience=AUDIENCE)


@pytest.fixture(scope="module")
def verifier(issuer: TokenIssuer) -> TokenVerifier:
    return TokenVerifier(keys=StaticKeys.from_jwks(issuer.jwks()), issuer=ISSUER, audience=AUDIENCE)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(datetime.now(UTC).timestamp())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "p-alice",
        "iat": now,
        "exp": now + 600,
        "name": "Alice Social",
        "kind": "practitioner",
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _sign(claims: dict[str, Any], key: SigningKey, **headers: Any) -> str:
    return jwt.encode(claims, key.private_pem, algorithm=key.algorithm, headers={"kid": key.kid, **headers})


async def _rejected(verifier: TokenVerifier, token: str) -> str:
    with pytest.raises(TokenRejected) as err:
        await verifier.verify(token)
    return str(err.value)


async def test_a_token_from_the_issuer_names_its_principal(
    issuer: TokenIssuer, verifier: TokenVerifier
) -> None:
    issued = issuer.issue(ALICE)
    assert await verifier.verify(issued.access_token) == ALICE
    # Short-lived by default (issue 9, rule 9): minutes, which the web refreshes unseen.
    assert (
        datetime.now(UTC) + timedelta(minutes=4)
        < issued.expires_at
        < datetime.now(UTC) + timedelta(minutes=6)
    )


async def test_an_rsa_key_signs_rs256_tokens_that_verify() -> None:
    pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        .decode()
    )
    key = SigningKey.from_pem(pem)
    assert key.algorithm == "RS256"
    issuer = TokenIssuer(keys=[key], issuer=ISSUER, audience=AUDIENCE)
    verifier = TokenVerifier(keys=StaticKeys.from_jwks(issuer.jwks()), issuer=ISSUER, audience=AUDIENCE)
    assert (await verifier.verify(issuer.issue(ALICE).access_token)).subject == "p-alice"


async def test_alg_none_is_rejected(verifier: TokenVerifier, key: SigningKey) -> None:
    header = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": key.kid}).encode())
    token = f"{header}.{_b64(json.dumps(_claims()).encode())}."
    assert "'none' is not accepted" in await _rejected(verifier, token)


async def test_hs256_signed_with_the_public_key_is_rejected(verifier: TokenVerifier, key: SigningKey) -> None:
    # The classic key-confusion attack: use the published public key as an HMAC secret.
    public_pem = (
        serialization.load_pem_private_key(key.private_pem.encode(), None)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": key.kid}).encode())
    payload = _b64(json.dumps(_claims()).encode())
    signature = _b64(hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest())
    assert "'HS256' is not accepted" in await _rejected(verifier, f"{header}.{payload}.{signature}")


async def test_a_token_signed_by_another_key_under_our_kid_is_rejected(
    verifier: TokenVerifier, key: SigningKey
) -> None:
    forger = SigningKey.generate()
    token = jwt.encode(_claims(), forger.private_pem, algorithm="ES256", headers={"kid": key.kid})
    assert "signature does not verify" in await _rejected(verifier, token)


async def test_a_tampered_payload_is_rejected(verifier: TokenVerifier, issuer: TokenIssuer) -> None:
    header, _, signature = issuer.issue(ALICE).access_token.split(".")
    escalated = _b64(json.dumps(_claims(kind="auditor")).encode())
    assert "signature does not verify" in await _rejected(verifier, f"{header}.{escalated}.{signature}")


async def test_an_expired_token_is_rejected(verifier: TokenVerifier, issuer: TokenIssuer) -> None:
    token = issuer.issue(ALICE, now=datetime.now(UTC) - timedelta(hours=2)).access_token
    assert "expired" in await _rejected(verifier, token)


async def test_a_token_expired_within_the_clock_leeway_is_still_accepted(
    verifier: TokenVerifier, key: SigningKey
) -> None:
    now = int(datetime.now(UTC).timestamp())
    token = _sign(_claims(iat=now - 600, exp=now - 5), key)
    assert (await verifier.verify(token)).subject == "p-alice"


async def test_a_token_without_expiry_is_rejected(verifier: TokenVerifier, key: SigningKey) -> None:
    token = _sign(_claims(exp=None), key)
    assert "required claim: exp" in await _rejected(verifier, token)


async def test_a_token_from_another_issuer_is_rejected(verifier: TokenVerifier, key: SigningKey) -> None:
    token = _sign(_claims(iss="https://evil.example"), key)
    assert "not issued by" in await _rejected(verifier, token)


async def test_a_token_for_another_audience_is_rejected(verifier: TokenVerifier, key: SigningKey) -> None:
    token = _sign(_claims(aud="another-system"), key)
    assert "not meant for this system" in await _rejected(verifier, token)


@pytest.mark.parametrize("claim", ["iss", "aud", "sub", "iat"])
async def test_a_token_missing_a_required_claim_is_rejected(
    verifier: TokenVerifier, key: SigningKey, claim: str
) -> None:
    token = _sign(_claims(**{claim: None}), key)
    assert claim in await _rejected(verifier, token)


async def test_a_token_with_an_unknown_kind_is_rejected(verifier: TokenVerifier, key: SigningKey) -> None:
    token = _sign(_claims(kind="superuser"), key)
    assert "kind claim" in await _rejected(verifier, token)


async def test_a_token_naming_an_unknown_key_is_rejected(verifier: TokenVerifier) -> None:
    stranger = SigningKey.generate()
    assert "unknown key" in await _rejected(verifier, _sign(_claims(), stranger))


async def test_an_algorithm_that_does_not_match_the_key_is_rejected(key: SigningKey) -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    rsa_pem = rsa_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    jwks = {"keys": [{**SigningKey.from_pem(rsa_pem).public_jwk(), "kid": "k1"}]}
    verifier = TokenVerifier(keys=StaticKeys.from_jwks(jwks), issuer=ISSUER, audience=AUDIENCE)
    token = jwt.encode(_claims(), key.private_pem, algorithm="ES256", headers={"kid": "k1"})
    assert "does not match the key" in await _rejected(verifier, token)


async def test_a_symmetric_key_in_a_jwks_is_never_used() -> None:
    secret = b"shared-secret-that-must-not-verify"
    jwks = {"keys": [{"kty": "oct", "kid": "oct1", "k": _b64(secret), "alg": "HS256"}]}
    verifier = TokenVerifier(keys=StaticKeys.from_jwks(jwks), issuer=ISSUER, audience=AUDIENCE)
    token = jwt.encode(_claims(), secret, algorithm="HS256", headers={"kid": "oct1"})
    assert "not accepted" in await _rejected(verifier, token)


@pytest.mark.parametrize("garbage", ["", "not-a-jwt", "a.b.c", "x" * 9000])
async def test_garbage_is_rejected(verifier: TokenVerifier, garbage: str) -> None:
    await _rejected(verifier, garbage)


async def test_a_static_public_key_verifies_tokens_without_a_kid(key: SigningKey) -> None:
    public_pem = (
        serialization.load_pem_private_key(key.private_pem.encode(), None)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    verifier = verifier_from_settings(
        AuthSettings(auth_public_key=public_pem, auth_issuer=ISSUER, auth_audience=AUDIENCE)
    )
    token = jwt.encode(_claims(), key.private_pem, algorithm="ES256")
    assert (await verifier.verify(token)).kind == "practitioner"


def test_signing_keys_are_named_by_their_thumbprint(key: SigningKey) -> None:
    jwk = key.public_jwk()
    assert jwk["kid"] == key.kid == jwk_thumbprint(jwk)
    assert "d" not in jwk  # the private part never leaves the issuer
    assert SigningKey.from_pem(key.private_pem).kid == key.kid


def test_weak_or_unsupported_signing_keys_are_refused() -> None:
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(ValueError, match="2048"):
        SigningKey.from_pem(small.decode())
    p384 = ec.generate_private_key(ec.SECP384R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(ValueError, match="P-256"):
        SigningKey.from_pem(p384.decode())


class _JwksServer:
    def __init__(self, *keys: SigningKey) -> None:
        self.keys = list(keys)
        self.up = True

    def handler(self, request: httpx.Request) -> httpx.Response:
        if not self.up:
            return httpx.Response(503)
        return httpx.Response(200, json={"keys": [k.public_jwk() for k in self.keys]})


async def test_remote_keys_are_cached_and_refetched_when_a_new_kid_appears(key: SigningKey) -> None:
    server = _JwksServer(key)
    keys = RemoteJwks("http://accounts/jwks", min_refresh_s=0, transport=httpx.MockTransport(server.handler))
    verifier = TokenVerifier(keys=keys, issuer=ISSUER, audience=AUDIENCE)
    await verifier.verify(_sign(_claims(), key))
    await verifier.verify(_sign(_claims(), key))
    assert keys.fetches == 1
    rotated = SigningKey.generate()
    server.keys.insert(0, rotated)
    assert (await verifier.verify(_sign(_claims(), rotated))).subject == "p-alice"
    assert keys.fetches == 2


async def test_unknown_kids_cannot_make_the_verifier_flood_the_issuer(key: SigningKey) -> None:
    server = _JwksServer(key)
    keys = RemoteJwks("http://accounts/jwks", min_refresh_s=60, transport=httpx.MockTransport(server.handler))
    verifier = TokenVerifier(keys=keys, issuer=ISSUER, audience=AUDIENCE)
    for _ in range(20):
        await _rejected(verifier, _sign(_claims(), SigningKey.generate()))
    assert keys.fetches == 1


async def test_cached_keys_survive_an_issuer_outage_but_no_keys_at_all_is_unavailable(
    key: SigningKey,
) -> None:
    server = _JwksServer(key)
    keys = RemoteJwks("http://accounts/jwks", cache_s=1, transport=httpx.MockTransport(server.handler))
    verifier = TokenVerifier(keys=keys, issuer=ISSUER, audience=AUDIENCE)
    await verifier.verify(_sign(_claims(), key))
    server.up = False
    keys._fetched_at = 0.0  # as if the cache had expired
    assert (await verifier.verify(_sign(_claims(), key))).subject == "p-alice"
    cold = RemoteJwks("http://accounts/jwks", transport=httpx.MockTransport(server.handler))
    with pytest.raises(KeysUnavailable):
        await TokenVerifier(keys=cold, issuer=ISSUER, audience=AUDIENCE).verify(_sign(_claims(), key))


def _app(verifier: TokenVerifier) -> FastAPI:
    app = FastAPI()
    install_verifier(app, verifier)
    install_error_statuses(app, SHARED_STATUSES)  # as every service's app builder does

    @app.get("/me")
    async def me(principal: PrincipalDep) -> Principal:
        return principal

    return app


def test_the_dependency_yields_the_principal_or_401_with_the_reason(
    issuer: TokenIssuer, verifier: TokenVerifier
) -> None:
    client = TestClient(_app(verifier))
    ok = client.get("/me", headers={"Authorization": f"Bearer {issuer.issue(ALICE).access_token}"})
    assert ok.status_code == 200
    assert ok.json()["subject"] == "p-alice"

    missing = client.get("/me")
    assert missing.status_code == 401
    assert "sign in first" in missing.json()["detail"]
    assert missing.headers["www-authenticate"].startswith("Bearer")

    expired = issuer.issue(ALICE, now=datetime.now(UTC) - timedelta(hours=3)).access_token
    response = client.get("/me", headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]
    assert 'error="invalid_token"' in response.headers["www-authenticate"]

    basic = client.get("/me", headers={"Authorization": "Basic YWxpY2U6c2VjcmV0"})
    assert basic.status_code == 401


def test_the_dependency_answers_503_when_keys_cannot_be_fetched(issuer: TokenIssuer) -> None:
    keys = RemoteJwks("http://accounts/jwks", transport=httpx.MockTransport(lambda _: httpx.Response(500)))
    client = TestClient(_app(TokenVerifier(keys=keys, issuer=ISSUER, audience=AUDIENCE)))
    response = client.get("/me", headers={"Authorization": f"Bearer {issuer.issue(ALICE).access_token}"})
    assert response.status_code == 503
