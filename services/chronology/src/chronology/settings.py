"""Chronology settings: environment variables prefixed CHRONOLOGY_."""

from pydantic_settings import SettingsConfigDict

from shared.auth import AuthSettings
from shared.settings import ServiceSettings


class ChronologySettings(ServiceSettings, AuthSettings):
    model_config = SettingsConfigDict(env_prefix="CHRONOLOGY_", extra="ignore")

    service_name: str = "chronology"
    http_port: int = 8002
