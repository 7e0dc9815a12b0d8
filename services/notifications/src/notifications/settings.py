"""Notifications settings: environment variables prefixed NOTIFICATIONS_."""

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from shared.auth import AuthSettings
from shared.settings import ServiceSettings


class NotificationsSettings(ServiceSettings, AuthSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFICATIONS_", extra="ignore")

    service_name: str = "notifications"
    http_port: int = 8005
    # Links in notifications point at the web (never at a service): the page checks access again.
    web_base_url: str = "http://127.0.0.1:8000"
    # The cross-agency pattern (issue 13, rule 7): this many different agencies within this many days.
    pattern_agencies: int = Field(default=3, ge=2, le=20)
    pattern_window_days: int = Field(default=14, ge=1, le=365)
    # An event about a child registered a moment ago may arrive before the child's access snapshot: wait.
    snapshot_wait_s: float = Field(default=3.0, ge=0, le=60)
    # Preferences kept in memory: exact for this replica's own changes (replaced when it makes them), and
    # another replica's are seen within this long. (Access snapshots: `access_cache_s`, shared.access_cache.)
    preferences_cache_s: float = Field(default=5.0, ge=0, le=300)
    # Live streams: how often a stream also polls the inbox (writes of other replicas), and its keep-alive.
    stream_poll_s: float = Field(default=2.0, gt=0, le=60)
    stream_ping_s: float = Field(default=15.0, gt=0, le=300)
    # A stream ends after this long and the browser reconnects with Last-Event-ID (EventSource does it by
    # itself): no connection outlives a token by long, and a replica can be drained.
    stream_max_s: float = Field(default=300.0, gt=0, le=3600)
    # Email over SMTP; an empty host turns email off (the inbox and the live stream still deliver).
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_sender: str = "notifications@safeguarding.invalid"
    smtp_timeout_s: float = Field(default=10.0, gt=0, le=120)
    email_attempts: int = Field(default=5, ge=1, le=20)
    email_backoff_s: float = Field(default=2.0, ge=0, le=600)
    email_poll_s: float = Field(default=1.0, gt=0, le=60)
    # The daily digest goes out once a day at this hour (UTC).
    digest_hour: int = Field(default=7, ge=0, le=23)
    digest_check_s: float = Field(default=30.0, gt=0, le=3600)
