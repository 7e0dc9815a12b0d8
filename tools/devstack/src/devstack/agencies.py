"""Agency users on the local broker: one SCRAM-SHA-512 user per agency, allowed only its own topics.

The broker (devstack.kafka) runs a SASL_PLAINTEXT listener with Kafka's StandardAuthorizer and denies
whatever no ACL allows. Here, once it answers, each agency in `shared.topics.AGENCIES` gets a user named after
it and exactly these ACLs, created through the Admin API on the internal (super-user) listener:

- topic `contacts.<agency>` (LITERAL): WRITE, DESCRIBE — publish its contact events;
- topic `contacts.<agency>.deadletter` (LITERAL): READ, DESCRIBE — read its own rejections;
- consumer groups `<agency>-` (PREFIXED): READ — the groups it reads them with.

`ensure_agency_access` converges on that on every start: credentials are upserted, missing ACLs created and any
other ACL of an agency user deleted. The passwords are local-stack ones (`SG_AGENCY_PASSWORD_<AGENCY>`, default
`dev-<agency>-secret`), deterministic so that a developer or a test can use them; production credentials are
the council's, never these.

confluent-kafka (the dev dependency group, which `./dev` always installs) does the admin work: aiokafka 0.14
has no ACL API.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from devstack.errors import DevStackError
from devstack.kafka import SASL_MECHANISM
from devstack.paths import Ports
from shared.topics import AGENCIES, contact_topic, dead_letter_topic

if TYPE_CHECKING:
    from confluent_kafka.admin import AdminClient
    from confluent_kafka.admin._acl import AclBinding

SCRAM_ITERATIONS = 8192  # Kafka accepts 4096-16384 for SCRAM-SHA-512
SECURITY_PROTOCOL = "SASL_PLAINTEXT"

Resource = Literal["TOPIC", "GROUP"]
Pattern = Literal["LITERAL", "PREFIXED"]
Operation = Literal["READ", "WRITE", "DESCRIBE"]


@dataclass(frozen=True, order=True)
class Grant:
    """One ALLOW ACL of an agency user, from any host."""

    resource: Resource
    name: str
    pattern: Pattern
    operation: Operation


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


# confluent_kafka.admin re-exports these without `__all__`, which mypy --strict does not accept: import them
# from the modules that define them.


def _binding(agency: str, grant: Grant) -> AclBinding:
    from confluent_kafka.admin._acl import AclBinding, AclOperation, AclPermissionType
    from confluent_kafka.admin._resource import ResourcePatternType, ResourceType

    return AclBinding(
        ResourceType[grant.resource],
        grant.name,
        ResourcePatternType[grant.pattern],
        principal(agency),
        "*",
        AclOperation[grant.operation],
        AclPermissionType.ALLOW,
    )


def _admin(bootstrap: str) -> AdminClient:
    try:
        from confluent_kafka.admin import AdminClient
    except ImportError as exc:
        raise DevStackError(
            "confluent-kafka (the project's dev dependency group) is not installed; run the tool as ./dev, "
            "which installs it, to create the agency users"
        ) from exc
    # log_level 3 (errors): librdkafka would otherwise log its housekeeping to stderr on close
    return AdminClient({"bootstrap.servers": bootstrap, "client.id": "sg-devstack-agencies", "log_level": 3})


def _upsert_credentials(admin: AdminClient, agencies: tuple[str, ...], timeout: float) -> None:
    from confluent_kafka.admin._scram import (
        ScramCredentialInfo,
        ScramMechanism,
        UserScramCredentialAlteration,
        UserScramCredentialUpsertion,
    )

    mechanism = ScramMechanism[SASL_MECHANISM.replace("-", "_")]
    alterations: list[UserScramCredentialAlteration] = []
    for agency in agencies:
        user, password = agency_credentials(agency)
        info = ScramCredentialInfo(mechanism, SCRAM_ITERATIONS)
        alterations.append(UserScramCredentialUpsertion(user, info, password.encode()))
    for user, future in admin.alter_user_scram_credentials(alterations, request_timeout=timeout).items():
        try:
            future.result(timeout)
        except Exception as exc:
            raise DevStackError(
                f"could not set the SCRAM credentials of the agency user {user!r}: {exc}"
            ) from exc


def _converge_acls(admin: AdminClient, agency: str, timeout: float) -> tuple[int, int]:
    from confluent_kafka.admin._acl import AclBindingFilter, AclOperation, AclPermissionType
    from confluent_kafka.admin._resource import ResourcePatternType, ResourceType

    wanted = {_binding(agency, grant) for grant in grants(agency)}
    # None matches any name and any host (the stubs say str; the filter documents None as "any").
    everything_of_user = AclBindingFilter(
        ResourceType.ANY,
        None,  # type: ignore[arg-type]
        ResourcePatternType.ANY,
        principal(agency),
        None,  # type: ignore[arg-type]
        AclOperation.ANY,
        AclPermissionType.ANY,
    )
    try:
        existing = set(admin.describe_acls(everything_of_user, request_timeout=timeout).result(timeout))
    except Exception as exc:
        raise DevStackError(f"could not list the ACLs of {principal(agency)}: {exc}") from exc
    extra = existing - wanted
    missing = wanted - existing
    if extra:
        filters = [
            AclBindingFilter(
                b.restype,
                b.name,
                b.resource_pattern_type,
                b.principal,
                b.host,
                b.operation,
                b.permission_type,
            )
            for b in extra
        ]
        for acl_filter, future in admin.delete_acls(filters, request_timeout=timeout).items():
            try:
                future.result(timeout)
            except Exception as exc:
                raise DevStackError(f"could not delete the ACL {acl_filter}: {exc}") from exc
    if missing:
        for binding, future in admin.create_acls(sorted(missing), request_timeout=timeout).items():
            try:
                future.result(timeout)
            except Exception as exc:
                raise DevStackError(f"could not create the ACL {binding}: {exc}") from exc
    return len(missing), len(extra)


def ensure_agency_access(bootstrap: str, timeout: float = 30.0) -> AccessReport:
    """Create (or refresh) every agency's user and converge its ACLs on `grants`; safe on every start.

    `bootstrap` is the internal, super-user listener. A broker without an authorizer (started by an older
    version of this tool) refuses ACL requests with SECURITY_DISABLED: the error then says to restart it."""
    admin = _admin(bootstrap)
    try:
        _upsert_credentials(admin, AGENCIES, timeout)
        created = deleted = 0
        for agency in AGENCIES:
            plus, minus = _converge_acls(admin, agency, timeout)
            created += plus
            deleted += minus
    except DevStackError as exc:
        if "SECURITY_DISABLED" in str(exc):
            raise DevStackError(
                f"the Kafka broker on {bootstrap} runs without an authorizer (it was started with an older "
                "configuration): ./dev down && ./dev infra restarts it with the agency SASL listener and ACLs"
            ) from exc
        raise
    return AccessReport(users=AGENCIES, created=created, deleted=deleted)
