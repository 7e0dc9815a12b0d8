"""Agency users on the local broker: one SCRAM-SHA-512 user per agency, allowed only its own topics.

The broker (devstack.kafka) runs a SASL_PLAINTEXT listener with Kafka's StandardAuthorizer and denies
whatever no ACL allows. Here, once it answers, each agency in `shared.topics.AGENCIES` gets a user named after
it and exactly these ACLs, created through the Admin API by the broker's administrator (devstack.acls):

- topic `contacts.<agency>` (LITERAL): WRITE, DESCRIBE — publish its contact events;
- topic `contacts.<agency>.deadletter` (LITERAL): READ, DESCRIBE — read its own rejections;
- consumer groups `<agency>-` (PREFIXED): READ — the groups it reads them with.

`ensure_agency_access` converges on that on every start: credentials are upserted, missing ACLs created and any
other ACL of an agency user deleted. The passwords are local-stack ones (`SG_AGENCY_PASSWORD_<AGENCY>`, default
`dev-<agency>-secret`), deterministic so that a developer or a test can use them; production credentials are
the council's, never these.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from devstack import acls
from devstack.acls import Grant
from devstack.errors import DevStackError
from devstack.kafka import SASL_MECHANISM
from devstack.paths import Ports
from shared.kafka.auth import SECURITY_PROTOCOL
from shared.topics import AGENCIES, contact_topic, dead_letter_topic


def _known(agency: str) -> str:
    if agency not in AGENCIES:
        raise DevStackError(f"unknown agency {agency!r}; the agencies are {', '.join(AGENCIES)}")
    return agency


def principal(agency: str) -> str:
    """The Kafka principal of an agency's user: `User:<agency>`."""
    return f"User:{_known(agency)}"


def password_variable(agency: str) -> str:
    """The environment variable that sets an agency's local-stack password."""
    return f"SG_AGENCY_PASSWORD_{_known(agency).upper()}"


def agency_credentials(agency: str, env: Mapping[str, str] | None = None) -> tuple[str, str]:
    """(user, password) of an agency on the local broker: `SG_AGENCY_PASSWORD_<AGENCY>` or `dev-<agency>-secret`."""
    source = os.environ if env is None else env
    password = source.get(password_variable(agency), "").strip() or f"dev-{agency}-secret"
    return agency, password


def sasl_bootstrap(ports: Ports | None = None) -> str:
    """Where agency systems connect: the broker's SASL_PLAINTEXT listener (SCRAM-SHA-512)."""
    return (ports or Ports.from_env()).kafka_sasl_bootstrap


def group_prefix(agency: str) -> str:
    """Consumer groups an agency may use start with this (`school-`)."""
    return f"{_known(agency)}-"


def client_config(agency: str, ports: Ports | None = None, *, password: str | None = None) -> dict[str, str]:
    """librdkafka (confluent-kafka, kcat) settings for connecting as an agency; `password` overrides its own."""
    user, own_password = agency_credentials(agency)
    return {
        "bootstrap.servers": sasl_bootstrap(ports),
        "security.protocol": SECURITY_PROTOCOL,
        "sasl.mechanism": SASL_MECHANISM,
        "sasl.username": user,
        "sasl.password": own_password if password is None else password,
    }


def grants(agency: str) -> tuple[Grant, ...]:
    """Every ACL an agency user has, and nothing else."""
    topic = contact_topic(_known(agency))
    rejections = dead_letter_topic(topic)
    return (
        Grant("TOPIC", topic, "LITERAL", "WRITE"),
        Grant("TOPIC", topic, "LITERAL", "DESCRIBE"),
        Grant("TOPIC", rejections, "LITERAL", "READ"),
        Grant("TOPIC", rejections, "LITERAL", "DESCRIBE"),
        Grant("GROUP", group_prefix(agency), "PREFIXED", "READ"),
    )


# --- on the broker --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccessReport:
    """What `ensure_agency_access` changed (credentials are upserted every time, so not counted)."""

    users: tuple[str, ...]
    created: int
    deleted: int


def ensure_agency_access(bootstrap: str, timeout: float = 30.0) -> AccessReport:
    """Create (or refresh) every agency's user and converge its ACLs on `grants`; safe on every start.

    `bootstrap` is the services' listener, where the administrator signs in. A broker started by an older
    version of this tool (no authorizer, or no administrator) refuses: the error then says to restart it."""
    admin = acls.admin_client(bootstrap, "sg-devstack-agencies")
    try:
        acls.upsert_credentials(admin, [agency_credentials(a) for a in AGENCIES], timeout)
        created = deleted = 0
        for agency in AGENCIES:
            plus, minus = acls.converge(admin, principal(agency), grants(agency), timeout)
            created += plus
            deleted += minus
    except DevStackError as exc:
        raise acls.explain_security_disabled(exc, bootstrap) from exc
    return AccessReport(users=AGENCIES, created=created, deleted=deleted)
