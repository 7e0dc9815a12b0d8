"""The services' users on the local broker: one SCRAM-SHA-512 user per service, allowed only its own topics.

Each service signs in as itself (`<SERVICE>_KAFKA_USER`, its name; `<SERVICE>_KAFKA_PASSWORD`), and the broker
denies whatever no ACL allows, so each may do exactly this (`grants`) and nothing else:

- WRITE the topics it produces: one per producing service (`accounts.events` and `identity.events` are
  accounts', `chronology.events` chronology's, `forum.events` the forum's), and `audit.events`, which every
  service writes because every read is audited, and accounts reads (notifications too: someone new opening
  a record is news to the lead);
- READ the topics it consumes, in consumer groups whose names start with its own (PREFIXED: its group, the
  `<service>.<purpose>` groups of its other consumers, and the suffixes tests give them);
- WRITE the dead-letter topic of each topic it consumes (`shared.topics.dead_letter_topic`).

READ and WRITE imply DESCRIBE, which the lag monitor and the producers' metadata requests need. Nobody but the
administrator may create topics, alter them or touch ACLs. The web has no Kafka client, hence no user.

The production names are LITERAL ACLs, converged on every start (`ensure_service_access`). A test or a
benchmark that runs on topics of its own (`Topics(prefix)`) adds the same grants for its names
(`grant_run`): Kafka's PREFIXED ACLs match the start of a name, and a run's prefix comes first, so one
PREFIXED ACL would have to be per run anyway, and a LITERAL one says exactly what it allows. Run grants
accumulate on a broker that stays up (`./dev infra`) and are removed by the next convergence.

The passwords are local-stack ones (`SG_KAFKA_PASSWORD_<SERVICE>`, default `dev-<service>-secret`); production
credentials are the council's (compose.yaml).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from devstack import acls
from devstack.acls import Grant
from devstack.errors import DevStackError
from shared.kafka.auth import KafkaCredentials
from shared.topics import DEFAULT, Topics, dead_letter_topic

SERVICES: tuple[str, ...] = ("accounts", "chronology", "analytics", "forum", "notifications")


def produces(service: str, topics: Topics = DEFAULT) -> tuple[str, ...]:
    """The topics `service` writes (its dead letters aside)."""
    own = {
        "accounts": (topics.accounts_events, topics.identity_events),
        "chronology": (topics.chronology_events,),
        "forum": (topics.forum_events,),
    }
    return (*own.get(_known(service), ()), topics.audit_events)


def consumes(service: str, topics: Topics = DEFAULT) -> tuple[str, ...]:
    """The topics `service` reads: its composition root's subscriptions, and `accounts.events` for the token
    revocations every service that verifies tokens follows (tests/test_kafka_access.py checks)."""
    readers = {
        "accounts": (topics.audit_events, topics.accounts_events, *topics.contacts),
        "chronology": (*topics.contacts, topics.identity_events, topics.accounts_events, topics.forum_events),
        "analytics": (*topics.contacts, topics.identity_events, topics.accounts_events, topics.forum_events),
        "forum": (topics.accounts_events,),
        "notifications": (
            *topics.contacts,
            topics.identity_events,
            topics.accounts_events,
            topics.chronology_events,
            topics.audit_events,
            topics.forum_events,
        ),
    }
    return readers.get(_known(service), ())


def _known(service: str) -> str:
    if service not in SERVICES:
        raise DevStackError(
            f"unknown service {service!r}; the services with a Kafka user are {', '.join(SERVICES)}"
        )
    return service


def principal(service: str) -> str:
    return f"User:{_known(service)}"


def grants(service: str, topics: Topics = DEFAULT) -> tuple[Grant, ...]:
    """Every ACL of `service`'s user for the topics `topics` names."""
    read = consumes(service, topics)
    written = (*produces(service, topics), *(dead_letter_topic(t) for t in read))
    return (
        *(Grant("TOPIC", t, "LITERAL", "WRITE") for t in sorted(set(written))),
        *(Grant("TOPIC", t, "LITERAL", "READ") for t in sorted(set(read))),
        Grant("GROUP", _known(service), "PREFIXED", "READ"),
    )


def password_variable(service: str) -> str:
    return f"SG_KAFKA_PASSWORD_{_known(service).upper()}"


def credentials(service: str, env: Mapping[str, str] | None = None) -> KafkaCredentials:
    """A service's user on the local broker: `SG_KAFKA_PASSWORD_<SERVICE>` or `dev-<service>-secret`."""
    source = os.environ if env is None else env
    password = source.get(password_variable(service), "").strip() or f"dev-{service}-secret"
    return KafkaCredentials(_known(service), password)


def service_env(service: str, prefix: str) -> dict[str, str]:
    """The settings that make a service process sign in as its user (`prefix` is its env prefix)."""
    if service not in SERVICES:
        return {}  # the web: no Kafka client
    own = credentials(service)
    return {f"{prefix}KAFKA_USER": own.user, f"{prefix}KAFKA_PASSWORD": own.password}


def local_env() -> dict[str, str]:
    """Every service's broker settings on the local stack (`<SERVICE>_KAFKA_USER`, `<SERVICE>_KAFKA_PASSWORD`),
    for processes that build services in-process (the test session, the API documents' generator)."""
    return {k: v for s in SERVICES for k, v in service_env(s, f"{s.upper()}_").items()}


@dataclass(frozen=True)
class AccessReport:
    """What a convergence changed (credentials are upserted every time, so not counted)."""

    users: tuple[str, ...]
    created: int
    deleted: int


def ensure_service_access(bootstrap: str, timeout: float = 30.0) -> AccessReport:
    """Create (or refresh) every service's user and make `grants` its only ACLs; safe on every start."""
    admin = acls.admin_client(bootstrap, "sg-devstack-services")
    created = deleted = 0
    try:
        acls.upsert_credentials(admin, [(s, credentials(s).password) for s in SERVICES], timeout)
        for service in SERVICES:
            plus, minus = acls.converge(admin, principal(service), grants(service), timeout)
            created += plus
            deleted += minus
    except DevStackError as exc:
        raise acls.explain_security_disabled(exc, bootstrap) from exc
    return AccessReport(users=SERVICES, created=created, deleted=deleted)


def grant_run(bootstrap: str, topics: Topics, timeout: float = 30.0) -> int:
    """Give every service's user the same rights on a run's own topics; returns how many ACLs were created."""
    if not topics.prefix:
        return 0  # the production names are converged at start
    admin = acls.admin_client(bootstrap, "sg-devstack-run")
    return sum(acls.add(admin, principal(s), grants(s, topics), timeout) for s in SERVICES)


# --- production: the same users and ACLs as a script for Kafka's own tools ------------------------------------

SCRIPT = "deploy/kafka-service-access.sh"
_OPERATION = {"READ": "Read", "WRITE": "Write", "DESCRIBE": "Describe"}


def access_script() -> str:
    """The shell script compose's `kafka-access` step runs (Kafka's image, as the administrator): each
    service's SCRAM user from `<SERVICE>_KAFKA_PASSWORD` and exactly its `grants`. It only adds; to revoke,
    `kafka-acls.sh --remove` (README, "Kafka access")."""
    lines = [
        "#!/bin/sh",
        "# Generated by `python -m devstack.service_users` from devstack/service_users.py: edit that, not this.",
        "# Each service's Kafka user (SCRAM-SHA-512) and its ACLs, created as the broker's administrator.",
        "set -eu",
        'BOOT="${KAFKA_BOOTSTRAP:-kafka:9092}"',
        "CONFIG=/tmp/kafka-admin.properties",
        "umask 077",
        'cat > "$CONFIG" <<EOF',
        "security.protocol=SASL_PLAINTEXT",
        "sasl.mechanism=PLAIN",
        "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required "
        'username="admin" password="$SG_KAFKA_ADMIN_PASSWORD";',
        "EOF",
        "user() {",
        '  /opt/kafka/bin/kafka-configs.sh --bootstrap-server "$BOOT" --command-config "$CONFIG" --alter \\',
        '    --entity-type users --entity-name "$1" --add-config "SCRAM-SHA-512=[iterations=8192,password=$2]"',
        "}",
        "allow() {",
        '  principal="$1"; shift',
        '  /opt/kafka/bin/kafka-acls.sh --bootstrap-server "$BOOT" --command-config "$CONFIG" --add \\',
        '    --allow-principal "User:$principal" "$@"',
        "}",
    ]
    for service in SERVICES:
        lines.append(f'user {service} "${service.upper()}_KAFKA_PASSWORD"')
        for g in grants(service):
            kind = "--topic" if g.resource == "TOPIC" else "--group"
            pattern = " --resource-pattern-type prefixed" if g.pattern == "PREFIXED" else ""
            lines.append(f"allow {service} --operation {_OPERATION[g.operation]} {kind} {g.name}{pattern}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    from devstack import paths

    (paths.REPO_ROOT / SCRIPT).write_text(access_script())
    print(paths.REPO_ROOT / SCRIPT)
