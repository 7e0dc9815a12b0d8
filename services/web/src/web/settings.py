"""Web settings: environment variables prefixed WEB_.

The web front end holds no data of its own: it signs people in through accounts and reads the other services
with the signed-in person's token, so it needs their addresses, not Kafka or MongoDB (the inherited
`kafka_bootstrap` and `mongo_url` are unused). It verifies tokens locally with accounts' keys, like every
service, only to know who is signed in; the backends decide what that person may see.
"""

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import SettingsConfigDict

from shared.auth import AuthSettings
from shared.settings import ServiceSettings


class DemoUser(BaseModel):
    """A demo user the sign-in page offers on the local stack."""

    username: str = Field(max_length=100)
    name: str = Field(max_length=200)
    who: str = Field(max_length=300)


class WebSettings(ServiceSettings, AuthSettings):
    model_config = SettingsConfigDict(env_prefix="WEB_", extra="ignore")

    service_name: str = "web"
    http_port: int = 8000
    # A child's page makes six or seven backend calls: 16 pages at once keep them within the backend pools
    # (`backend_connections` each), so no call waits inside httpx's pool, whose bookkeeping scans every
    # connection for each waiting call and was most of the web's time at 200 pages/s with 64. Past that, the
    # queue and a quick 503 (shared.overload).
    http_max_in_flight: int = Field(default=16, ge=1, le=10_000)
    accounts_url: str = Field(default="http://127.0.0.1:8001", description="Base URL of the accounts API.")
    chronology_url: str = Field(
        default="http://127.0.0.1:8002", description="Base URL of the chronology API."
    )
    analytics_url: str = Field(default="http://127.0.0.1:8004", description="Base URL of the analytics API.")
    forum_url: str = Field(default="http://127.0.0.1:8003", description="Base URL of the forum API.")
    notifications_url: str = Field(
        default="http://127.0.0.1:8005", description="Base URL of the notifications API."
    )
    backend_timeout_s: float = Field(default=10.0, gt=0, le=120)
    section_timeout_s: float = Field(
        default=3.0,
        gt=0,
        le=120,
        description="How long a page waits for one of its sections before showing it as unavailable.",
    )
    backend_connections: int = Field(
        default=64, ge=1, le=1000, description="Connections the web keeps open to each backend, at most."
    )
    backend_pool_wait_s: float = Field(
        default=1.0, gt=0, le=60, description="How long a call waits for a free connection before it fails."
    )
    cookie_secure: bool = Field(
        default=True,
        description="Send the sign-in cookie over HTTPS only (browsers also allow it on http://localhost and "
        "http://127.0.0.1); set false only to serve plain HTTP on another address.",
    )
    demo_password: SecretStr | None = Field(
        default=None,
        description="The local stack's demo password: when set, the sign-in page lists the demo users with it. "
        "Never set it in production.",
    )
    demo_users: tuple[DemoUser, ...] = Field(
        default=(),
        description="The local stack's demo users for the sign-in page (JSON; the dev stack sets it from the "
        "people it seeds). Empty in production.",
        max_length=50,
    )
