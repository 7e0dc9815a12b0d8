"""Accounts settings: environment variables prefixed ACCOUNTS_."""

from pydantic_settings import SettingsConfigDict
from shared.settings import ServiceSettings


class AccountsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ACCOUNTS_", extra="ignore")

    service_name: str = "accounts"
    http_port: int = 8001
