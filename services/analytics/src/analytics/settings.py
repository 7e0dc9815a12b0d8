"""Analytics settings: environment variables prefixed ANALYTICS_."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.auth import AuthSettings
from shared.settings import ServiceSettings


class AnalyticsSettings(ServiceSettings, AuthSettings):
    model_config = SettingsConfigDict(env_prefix="ANALYTICS_", extra="ignore")

    service_name: str = "analytics"
    http_port: int = 8004
    keyword_workers: int = Field(
        default=1,
        ge=1,
        le=32,
        description="Processes extracting keywords (YAKE is CPU-bound): one per spare core.",
    )
