"""Kafka users and their ACLs on the local broker, through the Admin API as its administrator.

One mechanism for agencies (devstack.agencies) and services (devstack.service_users): a user gets exactly the
`Grant`s it is given. `converge` creates what is missing and deletes any other ACL of that user, so the broker
ends up with what the code says on every start, whatever an earlier version left behind.

confluent-kafka (the dev dependency group, which `./dev` always installs) does the admin work: aiokafka 0.14
has no ACL API. confluent_kafka.admin re-exports its classes without `__all__`, which mypy --strict does not
accept: they are imported from the modules that define them.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from devstack.errors import DevStackError
from devstack.kafka import SASL_MECHANISM, admin_credentials

if TYPE_CHECKING:
    from confluent_kafka.admin import AdminClient
    from confluent_kafka.admin._acl import AclBinding

SCRAM_ITERATIONS = 8192  # Kafka accepts 4096-16384 for SCRAM-SHA-512

Resource = Literal["TOPIC", "GROUP"]
Pattern = Literal["LITERAL", "PREFIXED"]
Operation = Literal["READ", "WRITE", "DESCRIBE"]


@dataclass(frozen=True, order=True)
class Grant:
    """One ALLOW ACL of a user, from any host."""

    resource: Resource
    name: str
    pattern: Pattern
    operation: Operation


def binding(principal: str, grant: Grant) -> AclBinding:
    from confluent_kafka.admin._acl import AclBinding, AclOperation, AclPermissionType
    from confluent_kafka.admin._resource import ResourcePatternType, ResourceType

    return AclBinding(
        ResourceType[grant.resource],
        grant.name,
        ResourcePatternType[grant.pattern],
        principal,
        "*",
        AclOperation[grant.operation],
        AclPermissionType.ALLOW,
    )


def admin_client(bootstrap: str, client_id: str) -> AdminClient:
    """confluent-kafka's admin client, signed in as the broker's administrator."""
    try:
        from confluent_kafka.admin import AdminClient
    except ImportError as exc:
        raise DevStackError(
            "confluent-kafka (the project's dev dependency group) is not installed; run the tool as ./dev, "
            "which installs it, to create the Kafka users"
        ) from exc
    # log_level 3 (errors): librdkafka would otherwise log its housekeeping to stderr on close
    return AdminClient(
        {
            "bootstrap.servers": bootstrap,
            "client.id": client_id,
            "log_level": 3,
            **admin_credentials().librdkafka(),
        }
    )


def upsert_credentials(admin: AdminClient, users: Iterable[tuple[str, str]], timeout: float) -> None:
    """Set each (user, password) as a SCRAM-SHA-512 credential, creating the user where it is new."""
    from confluent_kafka.admin._scram import (
        ScramCredentialInfo,
        ScramMechanism,
        UserScramCredentialAlteration,
        UserScramCredentialUpsertion,
    )

    mechanism = ScramMechanism[SASL_MECHANISM.replace("-", "_")]
    alterations: list[UserScramCredentialAlteration] = [
        UserScramCredentialUpsertion(
            user, ScramCredentialInfo(mechanism, SCRAM_ITERATIONS), password.encode()
        )
        for user, password in users
    ]
    for user, future in admin.alter_user_scram_credentials(alterations, request_timeout=timeout).items():
        try:
            future.result(timeout)
        except Exception as exc:
            raise DevStackError(
                f"could not set the SCRAM credentials of the Kafka user {user!r}: {exc}"
            ) from exc


def _acls_of(admin: AdminClient, principal: str, timeout: float) -> set[AclBinding]:
    from confluent_kafka.admin._acl import AclBindingFilter, AclOperation, AclPermissionType
    from confluent_kafka.admin._resource import ResourcePatternType, ResourceType

    # None matches any name and any host (the stubs say str; the filter documents None as "any").
    everything_of_user = AclBindingFilter(
        ResourceType.ANY,
        None,  # type: ignore[arg-type]
        ResourcePatternType.ANY,
        principal,
        None,  # type: ignore[arg-type]
        AclOperation.ANY,
        AclPermissionType.ANY,
    )
    try:
        return set(admin.describe_acls(everything_of_user, request_timeout=timeout).result(timeout))
    except Exception as exc:
        raise DevStackError(f"could not list the ACLs of {principal}: {exc}") from exc


def add(admin: AdminClient, principal: str, grants: Iterable[Grant], timeout: float) -> int:
    """Create those of `grants` the user lacks (keeping its others); returns how many were created."""
    wanted = {binding(principal, g) for g in grants}
    missing = wanted - _acls_of(admin, principal, timeout)
    if missing:
        for acl, future in admin.create_acls(sorted(missing), request_timeout=timeout).items():
            try:
                future.result(timeout)
            except Exception as exc:
                raise DevStackError(f"could not create the ACL {acl}: {exc}") from exc
        _await_in_force(admin, principal, wanted, timeout)
    return len(missing)


def _await_in_force(admin: AdminClient, principal: str, wanted: set[AclBinding], timeout: float) -> None:
    """Wait until the broker's authorizer holds `wanted`. CreateAcls answers once the controller has
    committed them; the broker applies them when it replays the metadata log, a moment later (seen here: a
    producer refused half a second after the answer). DescribeAcls is answered from the broker's authorizer."""
    deadline = time.monotonic() + timeout
    while not wanted <= _acls_of(admin, principal, timeout):
        if time.monotonic() > deadline:
            raise DevStackError(f"the ACLs of {principal} were created but not in force after {timeout:.0f}s")
        time.sleep(0.05)


def converge(admin: AdminClient, principal: str, grants: Iterable[Grant], timeout: float) -> tuple[int, int]:
    """Make `grants` the user's only ACLs; returns (created, deleted)."""
    from confluent_kafka.admin._acl import AclBindingFilter

    grants = tuple(grants)
    wanted = {binding(principal, g) for g in grants}
    extra = _acls_of(admin, principal, timeout) - wanted
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
    return add(admin, principal, grants, timeout), len(extra)


def explain_security_disabled(exc: DevStackError, bootstrap: str) -> DevStackError:
    """A broker started by an older version of this tool refuses ACL requests or the administrator: say so."""
    text = str(exc)
    if "SECURITY_DISABLED" in text or "Authentication" in text or "SASL" in text:
        return DevStackError(
            f"the Kafka broker on {bootstrap} runs with an older configuration (no authorizer, or listeners "
            f"that do not authenticate): ./dev down && ./dev infra restarts it ({text})"
        )
    return exc
