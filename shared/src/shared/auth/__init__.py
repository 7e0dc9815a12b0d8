"""Signed tokens: accounts issues them, every service verifies them locally (BRIEF §6, "Security").

- `settings`: what a service's settings say about tokens (`AuthSettings`);
- `keys`: signing keys, verification keys and JWKS (static or fetched);
- `tokens`: issuing and verifying access tokens;
- `revocation`: sign-outs and disabled accounts, followed from `accounts.events`, refused on every request;
- `dependency`: `PrincipalDep`, the FastAPI dependency of every route that needs a sign-in.
"""

from shared.auth.dependency import (
    PrincipalDep,
    VerifiedTokenDep,
    current_principal,
    current_token,
    install_verifier,
)
from shared.auth.keys import (
    ASYMMETRIC_ALGORITHMS,
    KeySource,
    KeysUnavailable,
    RemoteJwks,
    SigningKey,
    StaticKeys,
    VerificationKey,
    jwk_thumbprint,
    parse_jwks,
)
from shared.auth.revocation import RevocationFeed, Revocations
from shared.auth.settings import DEFAULT_AUDIENCE, DEFAULT_ISSUER, LOCAL_JWKS_URL, AuthSettings
from shared.auth.tokens import (
    MAX_TOKEN_CHARS,
    IssuedToken,
    RevocationCheck,
    TokenExpired,
    TokenIssuer,
    TokenRejected,
    TokenVerifier,
    VerifiedToken,
    principal_from_claims,
    verifier_from_settings,
)
from shared.policy import Principal

__all__ = [
    "ASYMMETRIC_ALGORITHMS",
    "DEFAULT_AUDIENCE",
    "DEFAULT_ISSUER",
    "LOCAL_JWKS_URL",
    "MAX_TOKEN_CHARS",
    "AuthSettings",
    "IssuedToken",
    "KeySource",
    "KeysUnavailable",
    "Principal",
    "PrincipalDep",
    "RemoteJwks",
    "RevocationCheck",
    "RevocationFeed",
    "Revocations",
    "SigningKey",
    "StaticKeys",
    "TokenExpired",
    "TokenIssuer",
    "TokenRejected",
    "TokenVerifier",
    "VerificationKey",
    "VerifiedToken",
    "VerifiedTokenDep",
    "current_principal",
    "current_token",
    "install_verifier",
    "jwk_thumbprint",
    "parse_jwks",
    "principal_from_claims",
    "verifier_from_settings",
]
