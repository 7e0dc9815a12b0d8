"""An agency's contact event, published by a foreign Kafka client, reaches the chronology and the graph.

Chronology and analytics run as real processes against the real broker and FerretDB; the agency side is
confluent-kafka (librdkafka), not the project's code.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from confluent_kafka import Consumer, Producer
from shared.devstack.infra import Endpoints
from shared.identity import with_check_digit
from shared.testing.services import ServiceProcess

pytestmark = pytest.mark.e2e
LOGS = Path(__file__).resolve().parent.parent / ".cache" / "test-logs"


def new_nhs_number() -> str:
    while True:
        number = with_check_digit(f"{random.randrange(10**8, 10**9)}")
        if number:
            return number


def contact_event(
    nhs: str, *, event_id: str | None = None, summary: str = "Home visit; child well."
) -> dict[str, Any]:
    return {
        "id": event_id or str(uuid.uuid4()),
        "type": "contact.recorded",
        "version": 1,
        "source": "school",
        "subject": nhs,
        "time": "2026-03-02T10:00:00Z",
        "data": {
            "agency": "school",
            "author": {"name": "Ms Patel", "role": "Designated safeguarding lead"},
            "child": {"nhs_number": nhs},
            "occurred_at": "2026-03-02T09:15:00Z",
            "contact_type": "home_visit",
            "summary": summary,
            "impact": "neutral",
            "visibility": "family_visible",
        },
    }


class Agency:
    """An agency's own system: librdkafka, acks=all."""

    def __init__(self, bootstrap: str) -> None:
        self._producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True})

    def publish(self, value: bytes | dict[str, Any], *, key: str, topic: str = "contacts.school") -> None:
        body = value if isinstance(value, bytes) else json.dumps(value).encode()
        self._producer.produce(topic, body, key=key.encode())
        self._producer.poll(0)

    def flush(self) -> None:
        assert self._producer.flush(30) == 0


def wait_for(check: Callable[[], bool], *, within: float = 60.0, what: str) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def chronology_total(svc: ServiceProcess, child: str) -> int:
    page = httpx.get(f"{svc.url}/children/{child}/chronology", params={"limit": 500}, timeout=10).json()
    return int(page["total"])


def graph_total(svc: ServiceProcess, child: str) -> int:
    return int(httpx.get(f"{svc.url}/children/{child}/contact-graph", timeout=10).json()["total"])


@pytest.fixture
def stack(infra: Endpoints) -> Iterator[dict[str, ServiceProcess]]:
    run = uuid.uuid4().hex[:8]
    services = {
        name: ServiceProcess(
            name,
            kafka_bootstrap=infra.kafka_bootstrap,
            mongo_url=infra.mongo_url,
            database=f"test_{name}_{run}",
            group_suffix=f"-test-{run}",
            log_dir=LOGS,
        )
        for name in ("chronology", "analytics")
    }
    try:
        for svc in services.values():
            svc.start()
        yield services
    finally:
        for svc in services.values():
            svc.stop()


def test_a_foreign_clients_event_reaches_the_chronology_and_the_contact_graph(
    infra: Endpoints, stack: dict[str, ServiceProcess]
) -> None:
    agency = Agency(infra.kafka_bootstrap)
    child = new_nhs_number()
    agency.publish(contact_event(child, summary="Attended school nurse drop-in."), key=child)
    agency.flush()

    wait_for(lambda: chronology_total(stack["chronology"], child) == 1, what="the chronology entry")
    wait_for(lambda: graph_total(stack["analytics"], child) == 1, what="the graph count")
    entry = httpx.get(f"{stack['chronology'].url}/children/{child}/chronology").json()["entries"][0]
    assert entry["summary"] == "Attended school nurse drop-in."
    assert entry["agency"] == "school"
    assert entry["author"]["name"] == "Ms Patel"
    graph = httpx.get(
        f"{stack['analytics'].url}/children/{child}/contact-graph", params={"granularity": "day"}
    ).json()
    assert graph["series"] == [{"agency": "school", "points": [["2026-03-02", 1]]}]


def test_the_same_event_published_twice_is_stored_once(
    infra: Endpoints, stack: dict[str, ServiceProcess]
) -> None:
    agency = Agency(infra.kafka_bootstrap)
    child = new_nhs_number()
    event = contact_event(child)
    agency.publish(event, key=child)
    agency.publish(event, key=child)
    agency.publish(contact_event(child, summary="A later, different contact."), key=child)  # the marker
    agency.flush()

    wait_for(lambda: chronology_total(stack["chronology"], child) == 2, what="both distinct events")
    wait_for(lambda: graph_total(stack["analytics"], child) == 2, what="both distinct graph counts")
    time.sleep(
        1.0
    )  # the duplicate was before the marker in the same partition; give any late effect a chance
    assert chronology_total(stack["chronology"], child) == 2
    assert graph_total(stack["analytics"], child) == 2


def test_a_malformed_event_is_dead_lettered_with_its_reason_and_the_consumer_carries_on(
    infra: Endpoints, stack: dict[str, ServiceProcess]
) -> None:
    agency = Agency(infra.kafka_bootstrap)
    child = new_nhs_number()
    marker = uuid.uuid4().hex
    garbage = f'{{"not json at all {marker}'.encode()
    bad_nhs = contact_event(child, summary=marker)
    bad_nhs["data"]["child"]["nhs_number"] = child[:-1] + str((int(child[-1]) + 1) % 10)
    agency.publish(garbage, key=child)
    agency.publish(bad_nhs, key=child)
    agency.publish(contact_event(child, summary="After the bad ones."), key=child)
    agency.flush()

    wait_for(
        lambda: chronology_total(stack["chronology"], child) == 1, what="the good event after the bad ones"
    )
    group = stack["chronology"].env["CHRONOLOGY_CONSUMER_GROUP_SUFFIX"]
    letters = read_dead_letters(
        infra.kafka_bootstrap, "contacts.school.deadletter", marker, f"chronology{group}"
    )
    reasons = sorted(r["x-error"] for r in letters)
    assert len(letters) == 2, letters
    assert any("Invalid JSON" in r or "json_invalid" in r for r in reasons), reasons
    assert any("check digit" in r for r in reasons), reasons
    for r in letters:
        assert r["x-original-topic"] == "contacts.school"
        assert int(r["x-attempts"]) >= 1
        assert r["x-original-offset"].isdigit()


def read_dead_letters(
    bootstrap: str, topic: str, marker: str, group: str, within: float = 30.0
) -> list[dict[str, str]]:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"reader-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
        }
    )
    consumer.subscribe([topic])
    found: list[dict[str, str]] = []
    deadline = time.monotonic() + within
    try:
        while time.monotonic() < deadline and len(found) < 2:
            msg = consumer.poll(0.5)
            if msg is None or msg.error():
                continue
            headers = {k: v.decode() for k, v in (msg.headers() or [])}
            if marker.encode() in (msg.value() or b"") and headers.get("x-consumer-group") == group:
                found.append(headers)
    finally:
        consumer.close()
    return found


def test_killing_the_chronology_mid_stream_loses_nothing_and_doubles_nothing(
    infra: Endpoints, stack: dict[str, ServiceProcess]
) -> None:
    agency = Agency(infra.kafka_bootstrap)
    children = [new_nhs_number() for _ in range(6)]
    per_child = 500
    chronology = stack["chronology"]

    for i in range(per_child):
        for child in children:
            agency.publish(contact_event(child, summary=f"contact {i}"), key=child)
        if i == per_child // 5:
            agency.flush()
            wait_for(lambda: chronology_total(chronology, children[0]) > 0, what="ingest to begin")
            chronology.kill()
    agency.flush()
    assert chronology.returncode is not None

    chronology.start()
    wait_for(
        lambda: sum(chronology_total(chronology, c) for c in children) >= per_child * len(children),
        within=120,
        what="every event after the restart",
    )
    assert [chronology_total(chronology, c) for c in children] == [per_child] * len(children)
