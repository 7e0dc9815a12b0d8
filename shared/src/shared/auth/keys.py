"""Signing keys and verification keys: accounts' private key, the JWKS every service verifies with (static, or
fetched from accounts or a council's OIDC provider), and RFC 7638 key ids."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

log = logging.getLogger(__name__)

# Only signature schemes with a public/private key pair: a verifier holds nothing that can mint a token.
ASYMMETRIC_ALGORITHMS: frozenset[str] = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)


class KeysUnavailable(Exception):
    """The verification keys could not be fetched (accounts or the OIDC provider is unreachable)."""


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
