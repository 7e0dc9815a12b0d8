"""An agency touches only what is its own, and bad input gets a clear answer (BRIEF §3; issue 9, rules 6 and
12), tried through the real broker: a foreign client (confluent-kafka) publishes to the agency topics, and
chronology and analytics run as processes against the real broker and FerretDB."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from devstack.infra import Endpoints
from shared.topics import Topics, dead_letter_topic
from testsupport.agency import Agency, contact_event_json, read_dead_letters
from testsupport.events import new_nhs_number
from testsupport.identities import Identities, open_account
from testsupport.services import IsolatedRun, ServiceProcess, wait_for

pytestmark = pytest.mark.e2e
LOGS = Path(__file__).resolve().parent.parent / ".cache" / "test-logs"
IDS = Identities()
LEAD = "lead-practitioner"
TOPICS = Topics(prefix=f"t{uuid.uuid4().hex[:8]}.")


@pytest.fixture(scope="module")
def stack(infra: Endpoints) -> Iterator[dict[str, ServiceProcess]]:
    run = IsolatedRun.with_topics(infra, topics=TOPICS, log_dir=LOGS)
    services = {name: run.service(name, AUTH_JWKS=IDS.jwks_json()) for name in ("chronology", "analytics")}
    try:
        for svc in services.values():
            svc.start()
        yield services
    finally:
        for svc in services.values():
            svc.stop()


def new_child(infra: Endpoints) -> str:
    child = new_nhs_number()
    asyncio.run(
        open_account(
            infra.kafka_bootstrap, credentials=infra.kafka_admin, child_id=child, lead_id=LEAD, topics=TOPICS
        )
    )
    return child


def entries(svc: ServiceProcess, child: str) -> dict[str, dict[str, Any]]:
    """The lead's view of the child's contact entries by id; empty while the team is not yet known."""
    response = httpx.get(
        f"{svc.url}/children/{child}/chronology",
        params={"kind": "contact", "limit": 500},
        headers=IDS.headers(LEAD),
        timeout=10,
    )
    return {e["id"]: e for e in response.json()["entries"]} if response.status_code == 200 else {}


def graph_total(svc: ServiceProcess, child: str) -> int:
    response = httpx.get(f"{svc.url}/children/{child}/contact-graph", headers=IDS.headers(LEAD), timeout=10)
    return int(response.json()["total"]) if response.status_code == 200 else -1


def event(child: str, *, agency: str = "school", summary: str, **data: Any) -> dict[str, Any]:
    body = contact_event_json(child, agency=agency, summary=summary)
    body["data"].update(data)
    return body


def dead_letter_reasons(
    infra: Endpoints, stack: dict[str, ServiceProcess], marker: str, *, agency: str = "school"
) -> dict[str, str]:
    """Service → the reason its consumer gave for dead-lettering the record containing `marker`."""
    reasons: dict[str, str] = {}
    for name, svc in stack.items():
        group = name + svc.env[f"{name.upper()}_CONSUMER_GROUP_SUFFIX"]
        topic = dead_letter_topic(TOPICS.contact(agency))
        letters = read_dead_letters(infra, topic, marker, group, want=1)
        assert len(letters) == 1, f"{name} left no dead letter for {marker}"
        reasons[name] = letters[0]["x-error"]
    return reasons


def test_a_school_event_superseding_a_police_entry_is_dead_lettered_and_the_police_entry_stays(
    infra: Endpoints, stack: dict[str, ServiceProcess]
) -> None:
    agency = Agency(infra, TOPICS)
    child = new_child(infra)
    police = event(child, agency="police", summary="Police attended a disturbance.")
    agency.publish(police, key=child, agency="police")
    agency.flush()
    chronology, analytics = stack["chronology"], stack["analytics"]
    wait_for(lambda: f"police:{police['id']}" in entries(chronology, child), what="the police entry")
    wait_for(lambda: graph_total(analytics, child) == 1, what="the police contact in the graph")

    marker = uuid.uuid4().hex
    forged = event(child, summary=f"Struck out by the school {marker}", supersedes=police["id"])
    after = event(child, summary="A school contact after the forged correction.")
    agency.publish(forged, key=child)
    agency.publish(after, key=child)
    agency.flush()

    wait_for(lambda: f"school:{after['id']}" in entries(chronology, child), what="the later school event")
    wait_for(lambda: graph_total(analytics, child) == 2, what="the later school contact in the graph")
    for reason in dead_letter_reasons(infra, stack, marker).values():
        assert "data.supersedes" in reason and "police's, not school's" in reason, reason
    seen = entries(chronology, child)
    assert f"school:{forged['id']}" not in seen
    assert seen[f"police:{police['id']}"]["superseded_by"] is None
    assert graph_total(analytics, child) == 2


def test_an_event_whose_subject_names_another_child_is_dead_lettered(
    infra: Endpoints, stack: dict[str, ServiceProcess]
) -> None:
    agency = Agency(infra, TOPICS)
    child, other = new_child(infra), new_child(infra)
    marker = uuid.uuid4().hex
    mismatched = event(child, summary=f"About which child? {marker}")
    mismatched["subject"] = other
    after = event(other, summary="A contact about the other child.")
    agency.publish(mismatched, key=other)
    agency.publish(after, key=other)
    agency.flush()

    chronology = stack["chronology"]
    wait_for(lambda: f"school:{after['id']}" in entries(chronology, other), what="the later event")
    for reason in dead_letter_reasons(infra, stack, marker).values():
        assert "child mismatch" in reason and other in reason and child in reason, reason
    assert list(entries(chronology, other)) == [f"school:{after['id']}"]
    assert entries(chronology, child) == {}


def test_two_agencies_using_the_same_event_id_both_land(
    infra: Endpoints, stack: dict[str, ServiceProcess]
) -> None:
    agency = Agency(infra, TOPICS)
    child = new_child(infra)
    same_id = f"evt-{uuid.uuid4().hex[:8]}"
    school = event(child, summary="The school's event.")
    police = event(child, agency="police", summary="The police's event.")
    school["id"] = police["id"] = same_id
    agency.publish(school, key=child)
    agency.publish(police, key=child, agency="police")
    agency.flush()

    chronology, analytics = stack["chronology"], stack["analytics"]
    wait_for(lambda: len(entries(chronology, child)) == 2, what="both agencies' entries")
    wait_for(lambda: graph_total(analytics, child) == 2, what="both agencies' contacts in the graph")
    seen = entries(chronology, child)
    assert {i: e["summary"] for i, e in seen.items()} == {
        f"school:{same_id}": "The school's event.",
        f"police:{same_id}": "The police's event.",
    }


def test_a_nul_in_an_agency_events_summary_is_dead_lettered_naming_the_field(
    infra: Endpoints, stack: dict[str, ServiceProcess]
) -> None:
    agency = Agency(infra, TOPICS)
    child = new_child(infra)
    marker = uuid.uuid4().hex
    agency.publish(event(child, summary=f"Visited\x00 {marker}"), key=child)
    after = event(child, summary="A clean event after the bad one.")
    agency.publish(after, key=child)
    agency.flush()

    wait_for(lambda: f"school:{after['id']}" in entries(stack["chronology"], child), what="the clean event")
    for reason in dead_letter_reasons(infra, stack, marker).values():
        assert "data.summary" in reason and "control character U+0000" in reason, reason
    assert len(entries(stack["chronology"], child)) == 1
