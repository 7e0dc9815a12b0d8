"""The token settings every service mixes into its own settings class."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_ISSUER = "safeguarding-accounts"
DEFAULT_AUDIENCE = "safeguarding"
LOCAL_JWKS_URL = "http://127.0.0.1:8001/.well-known/jwks.json"


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
    # Minutes, not hours: a stolen or revoked token is worth little for long, and the web refreshes it unseen.
    auth_token_ttl_s: int = Field(
        default=300, ge=30, le=3600, description="Lifetime of issued access tokens."
    )
    auth_revocations: bool = Field(
        default=True,
        description="Follow sign-outs and disabled accounts on accounts.events and refuse their tokens (needs "
        "Kafka; off only where tokens come from an IdP that revokes nothing here).",
    )
    auth_revocation_lookback_s: int = Field(
        default=3600,
        ge=60,
        le=86_400,
        description="How far back a starting service reads revocations: at least the longest token lifetime.",
    )
