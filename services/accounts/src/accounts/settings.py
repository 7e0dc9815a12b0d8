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
