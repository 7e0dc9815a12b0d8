"""Accounts settings: environment variables prefixed ACCOUNTS_."""

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from shared.auth import AuthSettings
from shared.settings import ServiceSettings


class AccountsSettings(ServiceSettings, AuthSettings):
    model_config = SettingsConfigDict(env_prefix="ACCOUNTS_", extra="ignore")

    service_name: str = "accounts"
    http_port: int = 8001
    signing_key_pem: SecretStr | None = Field(
        default=None,
        description="PEM private key (RSA or EC P-256) that signs tokens; without it a key is generated at "
        "first start and kept in the database, so restarts and replicas share it.",
    )
    break_glass_minutes: int = Field(
        default=30, ge=5, le=120, description="How long break-glass lasts: an emergency, not a shift."
    )
    outbox_poll_s: float = Field(
        default=1.0, gt=0, le=60, description="How often unpublished events are swept."
    )
    audit_gather_ms: int = Field(
        default=100,
        ge=0,
        le=1000,
        description="How long the audit consumer lets the broker gather records into one batch: a page's audit "
        "records (one per section) become one write to the log and one to the viewers list instead of one "
        "each. The viewers list is that much later; 0 handles each record as it comes.",
    )
    session_hours: float = Field(
        default=12, gt=0, le=24 * 7, description="How long a sign-in lasts, refreshes included."
    )
    signin_limits_storage: str = Field(
        default="async+memory://",
        description="Where sign-in counters live (a `limits` storage URI): memory is right for one replica; "
        "several replicas share one, e.g. async+redis://host:6379 or async+mongodb://host (MongoDB).",
    )
    signin_limit_per_username: str = Field(default="10/minute", description="Sign-in attempts per user name.")
    signin_limit_per_client: str = Field(
        default="30/minute", description="Sign-in attempts per client address."
    )
    signin_lock_after: str = Field(
        default="5/15 minutes",
        description="Failed sign-ins that lock a user name, and for how long (the window).",
    )
    refresh_limit_per_client: str = Field(
        default="120/minute", description="Token refreshes per client address."
    )
    username_conflicts_limit: str = Field(
        default="5/hour", description="How many taken user names one person may be told of."
    )
    trusted_proxies: str = Field(
        default="",
        max_length=2000,
        description="Comma-separated addresses (the web's) whose X-Forwarded-For names the client that sign-in "
        "is limited by.",
    )
