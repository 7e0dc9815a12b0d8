"""Access tokens: accounts issues them, every service verifies them locally (BRIEF §6, "Security").

Tokens are JWTs signed with an asymmetric key (ES256 by default, RS256 for an RSA key), so a service needs only
public keys (`shared.auth.keys`). Verification accepts asymmetric algorithms only — `alg=none` and HS256 signed
with the public key as an HMAC secret are refused before any key is used — requires `exp`, `iat`, `sub`, the
configured issuer and the configured audience, and then asks the revocation list (`shared.auth.revocation`)
whether the token's session ended or its account was disabled since it was issued.

Claims beyond the registered ones: `name` (OIDC's display name), `kind` (practitioner | family | auditor |
agency_system | manager), `agency`, `role`, and `sid`, the sign-in session the token belongs to (OIDC's
session id; a council's provider may leave it out, and then only disabling the account revokes its tokens).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import jwt
from pydantic import ValidationError

from shared.auth.keys import ASYMMETRIC_ALGORITHMS, KeySource, RemoteJwks, SigningKey, StaticKeys
from shared.auth.settings import LOCAL_JWKS_URL, AuthSettings
from shared.policy import PRINCIPAL_KINDS, Principal

_KEY_TYPE_OF_ALGORITHM = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}
MAX_TOKEN_CHARS = 8192


class TokenRejected(Exception):
    """The token is not acceptable; the message says why in words a developer can act on."""


class TokenExpired(TokenRejected):
    """The token's lifetime is over (a refresh token may get a new one)."""


class RevocationCheck(Protocol):
    """What the verifier asks after the signature: is this token revoked?"""

    def revoked(self, *, subject: str, session_id: str | None, issued_at: float) -> str | None:
        """Why a token of `subject`, in session `session_id`, issued at `issued_at`, no longer counts; None
        if it still does. Must be O(1): it runs on every request."""
        ...


@dataclass(frozen=True)
class VerifiedToken:
    """A token that passed every check: who it names, and when it was issued and ends."""

    principal: Principal
    issued_at: datetime
    expires_at: datetime
    session_id: str | None


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
        self, *, keys: Sequence[SigningKey], issuer: str, audience: str, ttl: timedelta = timedelta(minutes=5)
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
        self,
        principal: Principal,
        *,
        now: datetime | None = None,
        ttl: timedelta | None = None,
        session_id: str | None = None,
    ) -> IssuedToken:
        """A signed token saying who `principal` is, valid from `now` for `ttl`, in sign-in session
        `session_id` (signing out ends the session, and every token of it)."""
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
        if session_id:
            claims["sid"] = session_id
        token = jwt.encode(claims, key.private_pem, algorithm=key.algorithm, headers={"kid": key.kid})
        return IssuedToken(access_token=token, expires_at=expires)

    def jwks(self) -> dict[str, Any]:
        """The public keys, as served at `/.well-known/jwks.json`."""
        return {"keys": [k.public_jwk() for k in self._keys]}


class TokenVerifier:
    """Checks a token's signature, algorithm, issuer, audience and lifetime, and says who it names."""

    def __init__(
        self,
        *,
        keys: KeySource,
        issuer: str,
        audience: str,
        leeway_s: float = 30,
        revocations: RevocationCheck | None = None,
    ) -> None:
        self._keys = keys
        self.issuer = issuer
        self.audience = audience
        self._leeway = leeway_s
        self.revocations = revocations

    async def verify(self, token: str) -> Principal:
        """The principal a valid token names; raises TokenRejected (or KeysUnavailable) otherwise."""
        return (await self.check(token)).principal

    async def check(self, token: str) -> VerifiedToken:
        """A valid token's principal, session and lifetime; raises TokenRejected (or KeysUnavailable)."""
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
            raise TokenExpired("the token has expired; sign in again") from err
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
        principal = principal_from_claims(claims)
        session_id = claims.get("sid")
        if session_id is not None and not isinstance(session_id, str):
            raise TokenRejected("the token's sid is not a string")
        issued_at = float(claims["iat"])
        if self.revocations is not None:
            why = self.revocations.revoked(
                subject=principal.subject, session_id=session_id, issued_at=issued_at
            )
            if why is not None:
                raise TokenRejected(why)
        return VerifiedToken(
            principal=principal,
            issued_at=datetime.fromtimestamp(issued_at, UTC),
            expires_at=datetime.fromtimestamp(float(claims["exp"]), UTC),
            session_id=session_id,
        )


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


def verifier_from_settings(
    settings: AuthSettings, *, local: KeySource | None = None, revocations: RevocationCheck | None = None
) -> TokenVerifier:
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
        revocations=revocations,
    )
