"""Who a Kafka client is on the broker: every client, service or tool, authenticates on a SASL listener.

The broker denies whatever no ACL allows, so a client that does not say who it is gets nothing, and each
service's user may write only its own topics (README, "Kafka access"). Services use SCRAM-SHA-512, whose
credentials live in the broker's metadata; only the broker's own administrator is a static PLAIN user, because
it must exist before any SCRAM credential can be created (and KRaft's controller listener cannot use SCRAM).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from faststream.security import BaseSecurity, SASLPlaintext, SASLScram512

Mechanism = Literal["SCRAM-SHA-512", "PLAIN"]

SCRAM_SHA_512: Mechanism = "SCRAM-SHA-512"
SECURITY_PROTOCOL = "SASL_PLAINTEXT"


@dataclass(frozen=True)
class KafkaCredentials:
    """A user and password on the broker's SASL listener."""

    user: str
    password: str = field(repr=False)
    mechanism: Mechanism = SCRAM_SHA_512

    def aiokafka(self) -> dict[str, Any]:
        """Keyword arguments for aiokafka's producer, consumer and admin client."""
        return {
            "security_protocol": SECURITY_PROTOCOL,
            "sasl_mechanism": self.mechanism,
            "sasl_plain_username": self.user,
            "sasl_plain_password": self.password,
        }

    def librdkafka(self) -> dict[str, str]:
        """Settings for librdkafka clients (confluent-kafka, kcat)."""
        return {
            "security.protocol": SECURITY_PROTOCOL,
            "sasl.mechanism": self.mechanism,
            "sasl.username": self.user,
            "sasl.password": self.password,
        }

    def faststream(self) -> BaseSecurity:
        """FastStream's `security=` for a KafkaBroker."""
        if self.mechanism == "PLAIN":
            return SASLPlaintext(username=self.user, password=self.password)
        return SASLScram512(username=self.user, password=self.password)
