"""Forum settings: environment variables prefixed FORUM_."""

from pydantic_settings import SettingsConfigDict

from shared.auth import AuthSettings
from shared.settings import ServiceSettings


class ForumSettings(ServiceSettings, AuthSettings):
    model_config = SettingsConfigDict(env_prefix="FORUM_", extra="ignore")

    service_name: str = "forum"
    http_port: int = 8003
