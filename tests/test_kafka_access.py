"""Kafka's internal topics are writable only by their owner (issue 9, rule 10), enforced by the real broker.

The attacker is a foreign client, confluent-kafka (librdkafka), on the services' listener: without
credentials it is refused; with chronology's credentials it cannot forge a `join.approved` on
`accounts.events`, which accounts' credentials can write. That the services still consume and produce what
they must is shown by every end-to-end test, which runs them as processes with their own credentials.

Most attempts use a run's own topics (`Topics(prefix)`, granted as `./dev test` grants every run), so that no
probe lands where another test's consumer would read it; the refusals are also tried on the production names.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import time
import uuid
from collections.abc import Iterator
from enum import Enum
from typing import Any

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer
from confluent_kafka.admin import AdminClient
from confluent_kafka.admin._acl import AclBinding, AclBindingFilter, AclOperation, AclPermissionType
from confluent_kafka.admin._resource import ResourcePatternType, ResourceType

from devstack import service_users
from devstack.infra import Endpoints
from devstack.paths import Ports
from shared.kafka.auth import KafkaCredentials
from shared.service import Runtime
from shared.topics import Topics, ensure_topics

pytestmark = pytest.mark.integration

DEADLINE = 30.0
QUIET = {"log_level": 3}  # librdkafka's own log lines would bury the assertion messages
RUN = Topics(f"acl{uuid.uuid4().hex[:8]}.")


def forged_join_approved(child: str) -> bytes:
    """What an attacker would put on accounts.events to let themself in to a child's records."""
    return json.dumps(
        {
            "id": uuid.uuid4().hex,
            "type": "join.approved",
            "source": "accounts",
            "subject": child,
            "data": {"child_id": child, "person_id": "intruder", "approved_by": "intruder"},
        }
    ).encode()


class Delivery:
    """The outcome of one produce: the delivery report's error (None: stored by the broker)."""

    def __init__(self) -> None:
        self.done = False
        self.error: KafkaError | None = None

    def __call__(self, err: KafkaError | None, msg: Message) -> None:
        self.done, self.error = True, err


def as_user(infra: Endpoints, credentials: KafkaCredentials | None, **extra: Any) -> dict[str, Any]:
    auth = credentials.librdkafka() if credentials is not None else {}
    return {"bootstrap.servers": infra.kafka_bootstrap, **auth, **QUIET, **extra}


def publish(config: dict[str, Any], topic: str, value: bytes) -> Delivery:
    producer = Producer({**config, "acks": "all", "message.timeout.ms": 15_000})
    delivery = Delivery()
    producer.produce(topic, value, key=b"child", on_delivery=delivery)
    deadline = time.monotonic() + DEADLINE
    while not delivery.done and time.monotonic() < deadline:
        producer.poll(0.2)
    producer.flush(5)
    assert delivery.done, f"no delivery report for {topic} within {DEADLINE:.0f}s"
    return delivery


def first_error(config: dict[str, Any], topic: str, group: str) -> KafkaError:
    consumer = Consumer({**config, "group.id": group, "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    try:
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            error = msg.error()
            assert error is not None, (
                f"consumed {msg.topic()} offset {msg.offset()}: should have been refused"
            )
            if error.code() != KafkaError._PARTITION_EOF:
                return error
        raise AssertionError(f"nothing refused the read of {topic} within {DEADLINE:.0f}s")
    finally:
        consumer.close()


def reads_without_error(config: dict[str, Any], topic: str, group: str, wanted: bytes) -> None:
    consumer = Consumer({**config, "group.id": group, "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    try:
        deadline = time.monotonic() + DEADLINE * 2
        while time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            assert msg.error() is None, f"consumer error: {msg.error()}"
            if msg.value() == wanted:
                consumer.commit(message=msg, asynchronous=False)  # its group's offsets, too
                return
        raise AssertionError(f"the record was not read from {topic} within {DEADLINE * 2:.0f}s")
    finally:
        consumer.close()


@pytest.fixture(scope="module")
def run_topics(infra: Endpoints) -> Iterator[Topics]:
    asyncio.run(ensure_topics(infra.kafka_bootstrap, RUN.all(), credentials=infra.kafka_admin))
    service_users.grant_run(infra.kafka_bootstrap, RUN)
    yield RUN


@pytest.mark.parametrize("topics", [Topics(), RUN], ids=["production names", "a run's own names"])
def test_chronology_cannot_forge_a_join_approval_on_accounts_events(
    infra: Endpoints, run_topics: Topics, topics: Topics
) -> None:
    chronology = as_user(infra, infra.kafka_user("chronology"))
    delivery = publish(chronology, topics.accounts_events, forged_join_approved("9434765919"))
    assert delivery.error is not None, "chronology's user wrote to accounts.events"
    assert delivery.error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED, delivery.error


def test_accounts_writes_its_own_topics(infra: Endpoints, run_topics: Topics) -> None:
    accounts = as_user(infra, infra.kafka_user("accounts"))
    for topic in (run_topics.accounts_events, run_topics.identity_events, run_topics.audit_events):
        delivery = publish(accounts, topic, b'{"probe": true}')
        assert delivery.error is None, f"accounts refused on {topic}: {delivery.error}"


def test_the_forum_writes_forum_events_and_no_other_service_does(
    infra: Endpoints, run_topics: Topics
) -> None:
    for topic in (run_topics.forum_events, run_topics.audit_events):
        delivery = publish(as_user(infra, infra.kafka_user("forum")), topic, b'{"probe": true}')
        assert delivery.error is None, f"forum refused on {topic}: {delivery.error}"
    for service in ("chronology", "analytics", "notifications"):
        delivery = publish(as_user(infra, infra.kafka_user(service)), run_topics.forum_events, b"{}")
        assert delivery.error is not None, f"{service} wrote to forum.events"
        assert delivery.error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED, delivery.error


@pytest.mark.parametrize("service", ["analytics", "forum", "notifications"])
def test_no_other_service_writes_accounts_or_chronology_events(
    infra: Endpoints, run_topics: Topics, service: str
) -> None:
    config = as_user(infra, infra.kafka_user(service))
    for topic in (run_topics.accounts_events, run_topics.chronology_events, run_topics.contact("school")):
        delivery = publish(config, topic, b'{"probe": true}')
        assert delivery.error is not None, f"{service} wrote to {topic}"
        assert delivery.error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED, (topic, delivery.error)


def test_a_client_without_credentials_is_refused_on_the_services_listener(
    infra: Endpoints, run_topics: Topics
) -> None:
    errors: list[KafkaError] = []
    config = as_user(infra, None, error_cb=errors.append, retries=0)
    delivery = publish(config, run_topics.accounts_events, forged_join_approved("9434765919"))
    assert delivery.error is not None, "an unauthenticated client wrote to accounts.events"
    assert errors, "the broker did not refuse the connection"
    with pytest.raises(KafkaException):  # not even the topic names
        AdminClient(as_user(infra, None)).list_topics(timeout=5)


def test_a_wrong_password_fails_authentication_on_the_services_listener(
    infra: Endpoints, run_topics: Topics
) -> None:
    errors: list[KafkaError] = []
    wrong = KafkaCredentials("accounts", "not-the-password")
    delivery = publish(as_user(infra, wrong, error_cb=errors.append), run_topics.accounts_events, b"{}")
    assert delivery.error is not None, "a wrong password wrote to accounts.events"
    assert any(e.code() == KafkaError._AUTHENTICATION for e in errors), errors


def test_the_administrator_cannot_sign_in_on_the_agencies_listener(infra: Endpoints) -> None:
    errors: list[KafkaError] = []
    config = {
        **as_user(infra, infra.kafka_admin, error_cb=errors.append),
        "bootstrap.servers": Ports.from_env().kafka_sasl_bootstrap,
    }
    delivery = publish(config, "contacts.school", b'{"probe": true}')
    assert delivery.error is not None, "the administrator signed in where only agencies may"
    assert any(e.code() == KafkaError._AUTHENTICATION for e in errors), errors


def test_a_service_reads_what_it_consumes_in_its_own_groups_and_nothing_else(
    infra: Endpoints, run_topics: Topics
) -> None:
    marker = json.dumps({"probe": uuid.uuid4().hex}).encode()
    assert (
        publish(as_user(infra, infra.kafka_user("accounts")), run_topics.accounts_events, marker).error
        is None
    )
    chronology = as_user(infra, infra.kafka_user("chronology"))
    reads_without_error(chronology, run_topics.accounts_events, f"chronology-{uuid.uuid4().hex[:6]}", marker)

    other_group = first_error(chronology, run_topics.accounts_events, f"accounts-{uuid.uuid4().hex[:6]}")
    assert other_group.code() == KafkaError.GROUP_AUTHORIZATION_FAILED, other_group
    audit = first_error(chronology, run_topics.audit_events, f"chronology-{uuid.uuid4().hex[:6]}")
    assert audit.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED, audit


def test_notifications_read_the_forums_events_in_their_own_group(
    infra: Endpoints, run_topics: Topics
) -> None:
    marker = json.dumps({"probe": uuid.uuid4().hex}).encode()
    assert publish(as_user(infra, infra.kafka_user("forum")), run_topics.forum_events, marker).error is None
    notifications = as_user(infra, infra.kafka_user("notifications"))
    reads_without_error(
        notifications, run_topics.forum_events, f"notifications.forum-{uuid.uuid4().hex[:6]}", marker
    )


def _acls_of(admin: AdminClient, principal: str) -> set[AclBinding]:
    everything = AclBindingFilter(
        ResourceType.ANY,
        None,  # type: ignore[arg-type]  # None: any name
        ResourcePatternType.ANY,
        principal,
        None,  # type: ignore[arg-type]  # None: any host
        AclOperation.ANY,
        AclPermissionType.ANY,
    )
    return set(admin.describe_acls(everything, request_timeout=DEADLINE).result(DEADLINE))


def _name(value: Enum | str | int) -> str:
    return value.name if isinstance(value, Enum) else str(value)


def test_each_service_has_its_own_grants_and_on_a_runs_topics_the_same(
    infra: Endpoints, run_topics: Topics
) -> None:
    admin = AdminClient({**infra.librdkafka(), **QUIET})
    for service in service_users.SERVICES:
        described = {
            tuple(
                _name(v) for v in (b.restype, b.name, b.resource_pattern_type, b.operation, b.permission_type)
            )
            for b in _acls_of(admin, service_users.principal(service))
        }
        for topics in (Topics(), run_topics):
            wanted = {
                (g.resource, g.name, g.pattern, g.operation, "ALLOW")
                for g in service_users.grants(service, topics)
            }
            assert wanted <= described, (service, topics.prefix, wanted - described)
        production = {
            (g.resource, g.name, g.pattern, g.operation, "ALLOW") for g in service_users.grants(service)
        }
        # Anything beyond the production grants is a run's grant: the same right on a prefixed name.
        for extra in described - production:
            resource, name, pattern, operation, _ = extra
            assert (resource, name.split(".", 1)[1], pattern, operation, "ALLOW") in production, (
                service,
                extra,
            )


@pytest.mark.parametrize("service", service_users.SERVICES)
def test_the_grants_read_exactly_what_the_composition_root_consumes(service: str) -> None:
    runtime = importlib.import_module(f"{service}.app").create_app().state.runtime
    assert isinstance(runtime, Runtime)
    consumed = {topic for sub in runtime.subscriptions for topic in sub.topics} | set(runtime.follows)
    assert consumed == set(service_users.consumes(service))
    assert all(sub.group_id.startswith(service) for sub in runtime.subscriptions)
