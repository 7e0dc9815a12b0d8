"""Settings from the environment, one prefix per service (CHRONOLOGY_KAFKA_BOOTSTRAP, ...)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.kafka.auth import KafkaCredentials


class ServiceSettings(BaseSettings):
    """What every service needs; a service subclasses it and sets its own env prefix."""

    model_config = SettingsConfigDict(extra="ignore")

    service_name: str
    kafka_bootstrap: str = "127.0.0.1:29092"
    # The service's own SCRAM-SHA-512 user on the broker (shared.kafka.auth); the user defaults to the
    # service's name. The password has no default: `kafka_credentials` refuses to build a client without it.
    kafka_user: str = ""
    kafka_password: SecretStr | None = None
    mongo_url: str = "mongodb://127.0.0.1:27027/"
    mongo_db: str = ""
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    log_level: str = "INFO"
    # Consumer tuning: one commit per batch is what makes ingest fast (KAFKA-NOTES.md).
    batch_max_records: int = Field(default=2000, ge=1, le=10_000)
    retry_attempts: int = Field(default=4, ge=1, le=20)
    retry_backoff_s: float = Field(default=0.2, ge=0, le=60)
    # Overload is refused, never a stall (shared.overload): requests served at once, how many more may wait
    # and for how long, and each request's deadline (database, broker and other services included).
    http_max_in_flight: int = Field(default=64, ge=1, le=10_000)
    http_queue: int = Field(default=128, ge=0, le=100_000)
    http_queue_wait_s: float = Field(default=0.25, ge=0, le=30)
    http_request_timeout_s: float = Field(default=15.0, gt=0, le=600)
    # Access snapshots kept in memory (shared.access_cache): a change another replica applied is seen within
    # `access_cache_s`; one this replica's consumer applies, at once (its children are kept up to the second).
    access_cache_s: float = Field(default=2.0, ge=0, le=60)
    access_cache_owned_s: float = Field(default=60.0, ge=0, le=3600)
    consumer_group_suffix: str = ""  # tests isolate their consumer groups with it
    topic_prefix: str = ""  # tests and benchmarks run on topics of their own (shared.topics)

    @property
    def database(self) -> str:
        return self.mongo_db or self.service_name

    def kafka_credentials(self) -> KafkaCredentials:
        """The service's broker credentials; raises when the password is not set (secrets have no default)."""
        if self.kafka_password is None or not self.kafka_password.get_secret_value():
            prefix = str(self.model_config.get("env_prefix", "")).upper()
            raise ValueError(
                f"{prefix}KAFKA_PASSWORD is not set: every service authenticates to Kafka (SCRAM-SHA-512) "
                f"as its own user ({prefix}KAFKA_USER, default {self.service_name!r})"
            )
        return KafkaCredentials(self.kafka_user or self.service_name, self.kafka_password.get_secret_value())

    @property
    def group_id(self) -> str:
        """Consumer group: the consuming service's name (STYLE.md)."""
        return self.service_name + self.consumer_group_suffix
