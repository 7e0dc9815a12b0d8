"""Signed tokens: accounts issues them, every service verifies them locally (BRIEF §6, "Security").

Tokens are JWTs signed with an asymmetric key (ES256 by default, RS256 for an RSA key), so a service needs only
public keys, fetched from a JWKS URL (accounts' `/.well-known/jwks.json`, or a council's OIDC provider) or given
statically in settings. Verification accepts asymmetric algorithms only — `alg=none` and HS256 signed with the
public key as an HMAC secret are refused before any key is used — and requires `exp`, `iat`, `sub`, the
configured issuer and the configured audience.

Claims beyond the registered ones: `name` (OIDC's display name), `kind` (practitioner | family | auditor |
agency_system | manager), `agency` and `role`. A council's own provider must put these in its tokens.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Protocol

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.errors import NotAuthenticated, SignInUnavailable
from shared.policy import PRINCIPAL_KINDS, Principal

__all__ = [
    "AuthSettings",
    "IssuedToken",
    "KeySource",
    "KeysUnavailable",
    "Principal",
    "PrincipalDep",
    "RemoteJwks",
    "SigningKey",
    "StaticKeys",
    "TokenIssuer",
    "TokenRejected",
    "TokenVerifier",
    "VerificationKey",
    "current_principal",
    "install_verifier",
    "jwk_thumbprint",
    "parse_jwks",
    "verifier_from_settings",
]

log = logging.getLogger(__name__)

# Only signature schemes with a public/private key pair: a verifier holds nothing that can mint a token.
ASYMMETRIC_ALGORITHMS: frozenset[str] = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
_KEY_TYPE_OF_ALGORITHM = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}
MAX_TOKEN_CHARS = 8192
DEFAULT_ISSUER = "safeguarding-accounts"
DEFAULT_AUDIENCE = "safeguarding"


class TokenRejected(Exception):
    """The token is not acceptable; the message says why in words a developer can act on."""


class KeysUnavailable(Exception):
    """The verification keys could not be fetched (accounts or the OIDC provider is unreachable)."""


class AuthSettings(BaseSettings):
    """Token settings a service mixes into its own settings class (its env prefix applies: CHRONOLOGY_AUTH_...).

    With none of `auth_jwks_url`, `auth_jwks` and `auth_public_key` set, a service fetches keys from the local
    accounts service; a council points them at its own OIDC provider and sets its issuer and audience."""

    model_config = SettingsConfigDict(extra="ignore")

    auth_issuer: str = DEFAULT_ISSUER
    auth_audience: str = DEFAULT_AUDIENCE
    auth_jwks_url: str | None = None
    auth_jwks: str | None = Field(default=None, description="A JWKS document as JSON, instead of a URL.")
    auth_public_key: str | None = Field(default=None, description="One PEM public key, instead of a JWKS.")
    auth_leeway_s: int = Field(default=30, ge=0, le=300, description="Clock skew allowed on exp/iat/nbf.")
    auth_jwks_cache_s: int = Field(default=300, ge=1, le=86_400)
    auth_jwks_min_refresh_s: float = Field(
        default=10.0, ge=0, le=3600, description="At most one refetch per this interval on an unknown kid."
    )
    auth_token_ttl_s: int = Field(default=3600, ge=60, le=86_400, description="Lifetime of issued tokens.")


LOCAL_JWKS_URL = "http://127.0.0.1:8001/.well-known/jwks.json"


# --- keys ------------------------------------------------------------------------------------------------


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def jwk_thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 thumbprint: a key id that names the key itself, so every replica derives the same one."""
    required = {"EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n"), "OKP": ("crv", "kty", "x")}
    members = {k: jwk[k] for k in required[str(jwk["kty"])]}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    return _b64url(hashlib.sha256(canonical).digest())


@dataclass(frozen=True)
class SigningKey:
    """A private key that signs tokens, its algorithm and its key id."""

    private_pem: str
    algorithm: str
    kid: str

    @classmethod
    def generate(cls) -> SigningKey:
        """A new P-256 key for ES256 (fast to make and to verify)."""
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        return cls.from_pem(pem)

    @classmethod
    def from_pem(cls, pem: str) -> SigningKey:
        """Load a PEM private key: RSA (2048 bits or more) signs RS256, EC P-256 signs ES256."""
        key = serialization.load_pem_private_key(pem.encode(), password=None)
        if isinstance(key, rsa.RSAPrivateKey):
            if key.key_size < 2048:
                raise ValueError(f"an RSA signing key needs at least 2048 bits, got {key.key_size}")
            algorithm = "RS256"
        elif isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1):
            algorithm = "ES256"
        else:
            raise ValueError("the signing key must be RSA (RS256) or EC P-256 (ES256)")
        jwk = _public_jwk(key.public_key())
        return cls(private_pem=pem, algorithm=algorithm, kid=jwk_thumbprint(jwk))

    def public_jwk(self) -> dict[str, Any]:
        key = serialization.load_pem_private_key(self.private_pem.encode(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise ValueError("unsupported signing key")
        return {**_public_jwk(key.public_key()), "kid": self.kid, "alg": self.algorithm, "use": "sig"}


def _public_jwk(public_key: Any) -> dict[str, Any]:
    if isinstance(public_key, rsa.RSAPublicKey):
        return dict(RSAAlgorithm.to_jwk(public_key, as_dict=True))
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return dict(ECAlgorithm.to_jwk(public_key, as_dict=True))
    raise ValueError(f"unsupported public key type {type(public_key).__name__}")


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_at: datetime
    token_type: str = "Bearer"


class TokenIssuer:
    """Signs tokens for principals with the first key; publishes every key's public half as a JWKS, so keys
    can be rotated by adding the new one first and dropping the old one after the last token it signed expired.
    """

    def __init__(
        self, *, keys: Sequence[SigningKey], issuer: str, audience: str, ttl: timedelta = timedelta(hours=1)
    ) -> None:
        if not keys:
            raise ValueError("a token issuer needs at least one signing key")
        self._keys = list(keys)
        self.issuer = issuer
        self.audience = audience
        self.ttl = ttl

    @property
    def signing_key(self) -> SigningKey:
        """The key new tokens are signed with."""
        return self._keys[0]

    def issue(
        self, principal: Principal, *, now: datetime | None = None, ttl: timedelta | None = None
    ) -> IssuedToken:
        """A signed token saying who `principal` is, valid from `now` for `ttl`."""
        issued = now or datetime.now(UTC)
        expires = issued + (ttl or self.ttl)
        key = self._keys[0]
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": principal.subject,
            "iat": int(issued.timestamp()),
            "nbf": int(issued.timestamp()),
            "exp": int(expires.timestamp()),
            "jti": str(uuid.uuid4()),
            "name": principal.name,
            "kind": principal.kind,
        }
        if principal.agency:
            claims["agency"] = principal.agency
        if principal.role:
            claims["role"] = principal.role
        token = jwt.encode(claims, key.private_pem, algorithm=key.algorithm, headers={"kid": key.kid})
        return IssuedToken(access_token=token, expires_at=expires)

    def jwks(self) -> dict[str, Any]:
        """The public keys, as served at `/.well-known/jwks.json`."""
        return {"keys": [k.public_jwk() for k in self._keys]}


# --- verification ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerificationKey:
    """A public key, its type (`RSA`, `EC`, `OKP`) and the one algorithm it is declared for, if any."""

    key: Any
    key_type: str
    algorithm: str | None


class KeySource(Protocol):
    """Where a verifier finds the public key for a token's `kid`."""

    async def key(self, kid: str | None) -> VerificationKey | None:
        """The key named `kid` (None: the only key, if there is exactly one), or None if unknown."""


def parse_jwks(document: Mapping[str, Any]) -> dict[str, VerificationKey]:
    """The signing keys of a JWKS, by kid; symmetric (`oct`) keys and encryption keys are dropped."""
    keys: dict[str, VerificationKey] = {}
    raw_keys = document.get("keys")
    if not isinstance(raw_keys, list):
        raise ValueError("a JWKS document has a `keys` list")
    for index, raw in enumerate(raw_keys):
        if not isinstance(raw, dict) or raw.get("kty") not in ("RSA", "EC", "OKP"):
            continue  # never accept a shared secret as a verification key
        if raw.get("use", "sig") != "sig":
            continue
        declared = raw.get("alg")
        if declared is not None and declared not in ASYMMETRIC_ALGORITHMS:
            continue
        try:
            jwk = jwt.PyJWK(raw)
        except jwt.PyJWTError as err:
            log.warning("skipping unusable key %s in JWKS: %s", raw.get("kid", index), err)
            continue
        kid = str(raw.get("kid") or jwk_thumbprint(raw))
        keys[kid] = VerificationKey(key=jwk.key, key_type=str(raw["kty"]), algorithm=declared)
    return keys


class StaticKeys:
    """Keys given up front: a JWKS document, a PEM public key, or the keys of a local `TokenIssuer`."""

    def __init__(self, keys: Mapping[str, VerificationKey]) -> None:
        self._keys = dict(keys)

    @classmethod
    def from_jwks(cls, document: Mapping[str, Any]) -> StaticKeys:
        return cls(parse_jwks(document))

    @classmethod
    def from_public_pem(cls, pem: str) -> StaticKeys:
        public_key = serialization.load_pem_public_key(pem.encode())
        jwk = _public_jwk(public_key)
        jwk["alg"] = (
            "RS256" if jwk["kty"] == "RSA" else {"P-256": "ES256", "P-384": "ES384"}.get(jwk["crv"], "")
        )
        return cls.from_jwks({"keys": [jwk]})

    def replace(self, keys: Mapping[str, VerificationKey]) -> None:
        self._keys = dict(keys)

    async def key(self, kid: str | None) -> VerificationKey | None:
        return _pick(self._keys, kid)


def _pick(keys: Mapping[str, VerificationKey], kid: str | None) -> VerificationKey | None:
    if kid is None:
        return next(iter(keys.values())) if len(keys) == 1 else None
    return keys.get(kid)


class RemoteJwks:
    """A JWKS fetched over HTTP, cached for `cache_s`, refetched at most every `min_refresh_s` when a token
    names a kid it does not know (a key rotation), so a flood of forged kids cannot flood the issuer."""

    def __init__(
        self,
        url: str,
        *,
        cache_s: float = 300,
        min_refresh_s: float = 10.0,
        timeout_s: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url = url
        self._transport = transport
        self.fetches = 0
        self._cache_s = cache_s
        self._min_refresh_s = min_refresh_s
        self._timeout_s = timeout_s
        self._keys: dict[str, VerificationKey] = {}
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()

    async def key(self, kid: str | None) -> VerificationKey | None:
        if self._fetched_at is None or time.monotonic() - self._fetched_at > self._cache_s:
            await self._refresh(force=self._fetched_at is None)
        found = _pick(self._keys, kid)
        if found is None and kid is not None:
            await self._refresh(force=False)
            found = _pick(self._keys, kid)
        return found

    async def _refresh(self, *, force: bool) -> None:
        async with self._lock:
            if (
                not force
                and self._fetched_at is not None
                and time.monotonic() - self._fetched_at < self._min_refresh_s
            ):
                return
            try:
                self.fetches += 1
                async with httpx.AsyncClient(timeout=self._timeout_s, transport=self._transport) as client:
                    response = await client.get(self.url)
                    response.raise_for_status()
                    keys = parse_jwks(response.json())
            except (httpx.HTTPError, ValueError) as err:
                if not self._keys:
                    raise KeysUnavailable(f"cannot fetch signing keys from {self.url}: {err}") from err
                log.warning("keeping cached signing keys; refetch from %s failed: %s", self.url, err)
                self._fetched_at = time.monotonic()
                return
            self._keys = keys
            self._fetched_at = time.monotonic()


class TokenVerifier:
    """Checks a token's signature, algorithm, issuer, audience and lifetime, and says who it names."""

    def __init__(self, *, keys: KeySource, issuer: str, audience: str, leeway_s: float = 30) -> None:
        self._keys = keys
        self.issuer = issuer
        self.audience = audience
        self._leeway = leeway_s

    async def verify(self, token: str) -> Principal:
        """The principal a valid token names; raises TokenRejected (or KeysUnavailable) otherwise."""
        if not token or len(token) > MAX_TOKEN_CHARS:
            raise TokenRejected("the token is empty or too long")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as err:
            raise TokenRejected(f"the token is not a well-formed JWT: {err}") from err
        algorithm = header.get("alg")
        if algorithm not in ASYMMETRIC_ALGORITHMS:
            raise TokenRejected(
                f"algorithm {algorithm!r} is not accepted; tokens must be signed with an asymmetric key"
            )
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise TokenRejected("the token's kid is not a string")
        key = await self._keys.key(kid)
        if key is None:
            raise TokenRejected(f"the token was signed with an unknown key (kid {kid!r})")
        expected_type = _KEY_TYPE_OF_ALGORITHM[str(algorithm)[:2]]
        if key.key_type != expected_type or (key.algorithm and key.algorithm != algorithm):
            raise TokenRejected(f"algorithm {algorithm} does not match the key named {kid!r}")
        try:
            claims = jwt.decode(
                token,
                key=key.key,
                algorithms=[str(algorithm)],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self._leeway,
                options={"require": ["exp", "iat", "sub", "iss", "aud"], "verify_signature": True},
            )
        except jwt.ExpiredSignatureError as err:
            raise TokenRejected("the token has expired; sign in again") from err
        except jwt.InvalidAudienceError as err:
            raise TokenRejected(
                f"the token is not meant for this system (audience must be {self.audience!r})"
            ) from err
        except jwt.InvalidIssuerError as err:
            raise TokenRejected(f"the token was not issued by {self.issuer!r}") from err
        except jwt.InvalidSignatureError as err:
            raise TokenRejected("the token's signature does not verify") from err
        except jwt.MissingRequiredClaimError as err:
            raise TokenRejected(f"the token lacks a required claim: {err.claim}") from err
        except jwt.PyJWTError as err:
            raise TokenRejected(f"the token is not valid: {err}") from err
        return principal_from_claims(claims)


def principal_from_claims(claims: Mapping[str, Any]) -> Principal:
    kind = claims.get("kind")
    if kind not in PRINCIPAL_KINDS:
        raise TokenRejected(f"the token's kind claim must be one of {', '.join(PRINCIPAL_KINDS)}")
    try:
        return Principal(
            subject=str(claims["sub"]),
            name=str(claims.get("name") or claims["sub"]),
            kind=kind,
            agency=claims.get("agency"),
            role=claims.get("role"),
        )
    except ValidationError as err:
        raise TokenRejected(f"the token's claims are not valid: {err.errors()[0]['msg']}") from err


def verifier_from_settings(settings: AuthSettings, *, local: KeySource | None = None) -> TokenVerifier:
    """The verifier a service's settings describe: static keys, a JWKS URL, or (if given and nothing else is
    configured) `local` keys — accounts passes its own issuer's keys — else the local accounts service."""
    keys: KeySource
    if settings.auth_public_key:
        keys = StaticKeys.from_public_pem(settings.auth_public_key)
    elif settings.auth_jwks:
        keys = StaticKeys.from_jwks(json.loads(settings.auth_jwks))
    elif settings.auth_jwks_url:
        keys = RemoteJwks(
            settings.auth_jwks_url,
            cache_s=settings.auth_jwks_cache_s,
            min_refresh_s=settings.auth_jwks_min_refresh_s,
        )
    elif local is not None:
        keys = local
    else:
        keys = RemoteJwks(
            LOCAL_JWKS_URL, cache_s=settings.auth_jwks_cache_s, min_refresh_s=settings.auth_jwks_min_refresh_s
        )
    return TokenVerifier(
        keys=keys,
        issuer=settings.auth_issuer,
        audience=settings.auth_audience,
        leeway_s=settings.auth_leeway_s,
    )


# --- FastAPI ----------------------------------------------------------------------------------------------

_bearer = HTTPBearer(
    auto_error=False, description="A token from accounts' POST /auth/token or the council's IdP"
)


def install_verifier(app: Any, verifier: TokenVerifier) -> None:
    """Make `verifier` the one `PrincipalDep` uses in this app (set once in the service's `create_app`)."""
    app.state.token_verifier = verifier


async def current_principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    """The signed-in principal, or 401 saying what is wrong with the token."""
    if credentials is None:
        raise NotAuthenticated("sign in first: send the header 'Authorization: Bearer <token>'")
    verifier = getattr(request.app.state, "token_verifier", None)
    if not isinstance(verifier, TokenVerifier):
        raise RuntimeError("no token verifier installed: call shared.auth.install_verifier in create_app")
    try:
        return await verifier.verify(credentials.credentials)
    except TokenRejected as err:
        challenge = f'Bearer error="invalid_token", error_description="{err}"'
        raise NotAuthenticated(str(err), challenge=challenge) from err
    except KeysUnavailable as err:
        raise SignInUnavailable("cannot check sign-in right now: the signing keys are unavailable") from err


PrincipalDep = Annotated[Principal, Depends(current_principal)]
