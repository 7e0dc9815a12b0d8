"""One topic per agency, enforced by the broker: SASL/SCRAM users and Kafka ACLs on the real local broker.

The agency side is a foreign client, confluent-kafka (librdkafka), connecting to the SASL_PLAINTEXT listener
exactly as an agency's system would; the project's own code only sets up users and ACLs and, as the broker's
administrator on the services' listener, puts a rejection on a dead-letter topic for the agency to read.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from enum import Enum
from typing import Any

import pytest
from confluent_kafka import Consumer, KafkaError, Message, Producer
from confluent_kafka.admin import AdminClient
from confluent_kafka.admin._acl import AclBinding, AclBindingFilter, AclOperation, AclPermissionType
from confluent_kafka.admin._resource import ResourcePatternType, ResourceType

from devstack import agencies
from devstack.infra import LOCK as INFRA_LOCK
from devstack.infra import Endpoints
from devstack.paths import Ports
from devstack.procs import file_lock
from shared.topics import AGENCIES, contact_topic, dead_letter_topic

pytestmark = pytest.mark.integration

DEADLINE = 30.0
QUIET = {"log_level": 3}  # librdkafka's own log lines would bury the assertion messages
PROBE_HEADER = ("sg-test", b"agency-acl-probe")  # a consumer of the real topics can tell these apart


@pytest.fixture(scope="module")
def ports(infra: Endpoints) -> Ports:
    """Where the SASL listener is. Users and ACLs are what starting the infrastructure set up
    (`infra.ensure_infra`, run by `./dev` or by the `infra` fixture): these tests check that, not a repair."""
    return Ports.from_env()


@pytest.fixture
def admin(infra: Endpoints) -> AdminClient:
    return AdminClient({**infra.librdkafka(), **QUIET})


def as_agency(agency: str, ports: Ports, **extra: Any) -> dict[str, Any]:
    return {**agencies.client_config(agency, ports), **QUIET, **extra}


class Delivery:
    """The outcome of one produce: the delivery report's error (None: stored by the broker)."""

    def __init__(self) -> None:
        self.done = False
        self.error: KafkaError | None = None
        self.topic: str | None = None

    def __call__(self, err: KafkaError | None, msg: Message) -> None:
        self.done, self.error, self.topic = True, err, msg.topic()


def publish(producer: Producer, topic: str, *, within: float = DEADLINE) -> Delivery:
    delivery = Delivery()
    producer.produce(
        topic, b'{"probe": true}', key=uuid.uuid4().hex.encode(), headers=[PROBE_HEADER], on_delivery=delivery
    )
    deadline = time.monotonic() + within
    while not delivery.done and time.monotonic() < deadline:
        producer.poll(0.2)
    assert delivery.done, f"no delivery report for {topic} within {within:.0f}s"
    return delivery


@pytest.fixture
def school_producer(ports: Ports) -> Iterator[Producer]:
    producer = Producer(as_agency("school", ports, acks="all", **{"message.timeout.ms": 20_000}))
    yield producer
    producer.flush(5)


def test_an_agency_publishes_to_its_own_topic(school_producer: Producer) -> None:
    delivery = publish(school_producer, contact_topic("school"))
    assert delivery.error is None, f"refused: {delivery.error}"
    assert delivery.topic == "contacts.school"


def test_an_agency_is_refused_on_another_agencys_topic(school_producer: Producer) -> None:
    delivery = publish(school_producer, contact_topic("police"))
    assert delivery.error is not None, "school published to contacts.police"
    assert delivery.error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED, delivery.error


def test_a_wrong_password_fails_authentication(ports: Ports) -> None:
    errors: list[KafkaError] = []
    config = agencies.client_config("school", ports, password="not-the-password")
    producer = Producer(
        {**config, **QUIET, "error_cb": errors.append, "message.timeout.ms": 10_000, "retries": 0}
    )
    delivery = Delivery()
    producer.produce(
        contact_topic("school"), b'{"probe": true}', headers=[PROBE_HEADER], on_delivery=delivery
    )
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline and not any(e.code() == KafkaError._AUTHENTICATION for e in errors):
        producer.poll(0.2)
    assert any(e.code() == KafkaError._AUTHENTICATION for e in errors), f"no authentication error: {errors}"
    producer.flush(15)
    assert delivery.done and delivery.error is not None, "a message was stored without authentication"


def _consume_until(consumer: Consumer, wanted: bytes, within: float = DEADLINE * 2) -> Message:
    """The message with key `wanted`; fails on any consumer error or at the deadline."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        msg = consumer.poll(0.5)
        if msg is None:
            continue
        error = msg.error()
        assert error is None, f"consumer error: {error}"
        if msg.key() == wanted:
            return msg
    raise AssertionError(f"message {wanted!r} not consumed within {within:.0f}s")


def _first_error(consumer: Consumer, within: float = DEADLINE) -> KafkaError:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        msg = consumer.poll(0.5)
        if msg is None:
            continue
        error = msg.error()
        assert error is not None, f"consumed {msg.topic()} offset {msg.offset()}: should have been refused"
        if error.code() != KafkaError._PARTITION_EOF:
            return error
    raise AssertionError(f"nothing refused the read within {within:.0f}s")


def _reader(ports: Ports, group: str) -> Consumer:
    return Consumer(
        as_agency(
            "school",
            ports,
            **{"group.id": group, "auto.offset.reset": "earliest", "enable.auto.commit": False},
        )
    )


def test_an_agency_reads_its_own_rejections(infra: Endpoints, ports: Ports) -> None:
    rejections = dead_letter_topic(contact_topic("school"))
    marker = uuid.uuid4().hex.encode()
    internal = Producer({**infra.librdkafka(), **QUIET})  # the services' listener, as the administrator
    internal.produce(rejections, b'{"probe": true}', key=marker, headers=[PROBE_HEADER])
    assert internal.flush(DEADLINE) == 0

    consumer = _reader(ports, "school-reader")
    try:
        consumer.subscribe([rejections])
        msg = _consume_until(consumer, marker)
        consumer.commit(message=msg, asynchronous=False)  # the group's offsets: READ on `school-` groups
    finally:
        consumer.close()


def test_an_agency_cannot_read_another_agencys_rejections(ports: Ports) -> None:
    consumer = _reader(ports, "school-reader")
    try:
        consumer.subscribe([dead_letter_topic(contact_topic("police"))])
        error = _first_error(consumer)
    finally:
        consumer.close()
    assert error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED, error


def test_an_agency_reads_only_with_its_own_consumer_groups(ports: Ports) -> None:
    consumer = _reader(ports, "police-reader")
    try:
        consumer.subscribe([dead_letter_topic(contact_topic("school"))])
        error = _first_error(consumer)
    finally:
        consumer.close()
    assert error.code() == KafkaError.GROUP_AUTHORIZATION_FAILED, error


def _acls_of(admin: AdminClient, agency: str) -> set[AclBinding]:
    everything = AclBindingFilter(
        ResourceType.ANY,
        None,  # type: ignore[arg-type]  # None: any name
        ResourcePatternType.ANY,
        agencies.principal(agency),
        None,  # type: ignore[arg-type]  # None: any host
        AclOperation.ANY,
        AclPermissionType.ANY,
    )
    return set(admin.describe_acls(everything, request_timeout=DEADLINE).result(DEADLINE))


def _name(value: Enum | str | int) -> str:
    return value.name if isinstance(value, Enum) else str(value)


def _described(bindings: set[AclBinding]) -> set[tuple[str, ...]]:
    return {
        tuple(
            _name(v)
            for v in (b.restype, b.name, b.resource_pattern_type, b.operation, b.permission_type, b.host)
        )
        for b in bindings
    }


def test_each_agency_has_exactly_its_own_grants(admin: AdminClient) -> None:
    for agency in AGENCIES:
        assert _described(_acls_of(admin, agency)) == {
            (g.resource, g.name, g.pattern, g.operation, "ALLOW", "*") for g in agencies.grants(agency)
        }, agency


def test_setting_up_again_changes_nothing_and_removes_a_stray_grant(
    infra: Endpoints, admin: AdminClient
) -> None:
    stray = AclBinding(
        ResourceType.TOPIC,
        contact_topic("police"),
        ResourcePatternType.LITERAL,
        agencies.principal("school"),
        "*",
        AclOperation.READ,
        AclPermissionType.ALLOW,
    )
    as_filter = AclBindingFilter(
        stray.restype,
        stray.name,
        stray.resource_pattern_type,
        stray.principal,
        stray.host,
        stray.operation,
        stray.permission_type,
    )
    # Held while starting the infrastructure too, so a concurrent `./dev` cannot converge in between.
    with file_lock(INFRA_LOCK, what="changing agency ACLs in a test"):
        assert agencies.ensure_agency_access(infra.kafka_bootstrap) == agencies.AccessReport(AGENCIES, 0, 0)
        admin.create_acls([stray], request_timeout=DEADLINE)[stray].result(DEADLINE)
        try:
            assert stray in _acls_of(admin, "school")
            report = agencies.ensure_agency_access(infra.kafka_bootstrap)
            assert report == agencies.AccessReport(AGENCIES, 0, 1)
            assert stray not in _acls_of(admin, "school")
        finally:
            admin.delete_acls([as_filter], request_timeout=DEADLINE)[as_filter].result(DEADLINE)
