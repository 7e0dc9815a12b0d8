"""An agency's contact event, published by a foreign Kafka client, reaches the chronology and the graph.

Chronology and analytics run as real processes against the real broker and FerretDB; the agency side is
confluent-kafka (librdkafka), not the project's code.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from confluent_kafka import Consumer

from devstack.infra import Endpoints
from shared.identity import with_check_digit
from shared.policy import PrincipalKind
from shared.topics import Topics, dead_letter_topic
from testsupport.agency import Agency, contact_event_json, read_dead_letters
from testsupport.identities import Identities, open_account
from testsupport.services import IsolatedRun, ServiceProcess, wait_for

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
    return contact_event_json(nhs, event_id=event_id, summary=summary)


IDS = Identities()
LEAD = "lead-practitioner"
TOPICS = Topics(prefix=f"t{uuid.uuid4().hex[:8]}.")  # this module's own topics: no one else's history


def get(svc: ServiceProcess, path: str, *, who: str = LEAD, **params: Any) -> httpx.Response:
    kind: PrincipalKind = "family" if who.startswith("parent") else "practitioner"
    return httpx.get(f"{svc.url}{path}", params=params, headers=IDS.headers(who, kind=kind), timeout=10)


def chronology_total(svc: ServiceProcess, child: str) -> int:
    """Entries the lead can read; -1 while the child's team is not yet known to the service."""
    response = get(svc, f"/children/{child}/chronology", limit=500, kind="contact")
    return int(response.json()["total"]) if response.status_code == 200 else -1


def graph_total(svc: ServiceProcess, child: str) -> int:
    response = get(svc, f"/children/{child}/contact-graph")
    return int(response.json()["total"]) if response.status_code == 200 else -1


def new_child(infra: Endpoints, *, parent: str | None = None) -> str:
    child = new_nhs_number()
    asyncio.run(
        open_account(
            infra.kafka_bootstrap,
            credentials=infra.kafka_admin,
            child_id=child,
            lead_id=LEAD,
            family_id=parent,
            topics=TOPICS,
        )
    )
    return child


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


def test_a_foreign_clients_event_reaches_the_chronology_and_the_contact_graph(
    infra: Endpoints, stack: dict[str, ServiceProcess]
) -> None:
    agency = Agency(infra, TOPICS)
    child = new_child(infra)
    agency.publish(contact_event(child, summary="Attended school nurse drop-in."), key=child)
    agency.flush()

    wait_for(lambda: chronology_total(stack["chronology"], child) == 1, what="the chronology entry")
    wait_for(lambda: graph_total(stack["analytics"], child) == 1, what="the graph count")
    entry = get(stack["chronology"], f"/children/{child}/chronology").json()["entries"][0]
    assert entry["summary"] == "Attended school nurse drop-in."
    assert entry["agency"] == "school"
    assert entry["author"]["name"] == "Ms Patel"
    graph = get(stack["analytics"], f"/children/{child}/contact-graph", granularity="day").json()
    assert graph["series"] == [{"agency": "school", "points": [["2026-03-02", 1]]}]


def test_the_same_event_published_twice_is_stored_once(
    infra: Endpoints, stack: dict[str, ServiceProcess]
) -> None:
    agency = Agency(infra, TOPICS)
    child = new_child(infra)
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
    agency = Agency(infra, TOPICS)
    child = new_child(infra)
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
        infra, dead_letter_topic(TOPICS.contact("school")), marker, f"chronology{group}"
    )
    reasons = sorted(r["x-error"] for r in letters)
    assert len(letters) == 2, letters
    assert any("Invalid JSON" in r or "json_invalid" in r for r in reasons), reasons
    assert any("check digit" in r for r in reasons), reasons
    for r in letters:
        assert r["x-original-topic"] == TOPICS.contact("school")
        assert int(r["x-attempts"]) >= 1
        assert r["x-original-offset"].isdigit()


@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM"])
def test_stopping_the_chronology_mid_stream_loses_nothing_and_doubles_nothing(
    infra: Endpoints, stack: dict[str, ServiceProcess], how: str
) -> None:
    agency = Agency(infra, TOPICS)
    children = [new_child(infra) for _ in range(6)]
    per_child = 500
    chronology = stack["chronology"]

    for i in range(per_child):
        for child in children:
            agency.publish(contact_event(child, summary=f"contact {i}"), key=child)
        if i == per_child // 5:
            agency.flush()
            wait_for(lambda: chronology_total(chronology, children[0]) > 0, what="ingest to begin")
            # a crash, or the graceful stop a deployment sends: in-flight batches are finished or redelivered
            if how == "SIGKILL":
                chronology.kill()
            else:
                chronology.stop()
    agency.flush()
    assert chronology.returncode is not None

    chronology.start()
    wait_for(
        lambda: sum(chronology_total(chronology, c) for c in children) >= per_child * len(children),
        within=120,
        what="every event after the restart",
    )
    assert [chronology_total(chronology, c) for c in children] == [per_child] * len(children)


def test_only_the_childs_team_reads_it_and_the_family_sees_only_family_visible_entries(
    infra: Endpoints, stack: dict[str, ServiceProcess]
) -> None:
    agency = Agency(infra, TOPICS)
    child = new_child(infra, parent="parent-of-child")
    shared = contact_event(child, summary="Visited; the family was welcoming.")
    restricted = contact_event(child, summary="Police intelligence about an adult in the household.")
    restricted["data"]["visibility"] = "restricted"
    agency.publish(shared, key=child)
    agency.publish(restricted, key=child)
    agency.flush()
    chronology, analytics = stack["chronology"], stack["analytics"]
    wait_for(lambda: chronology_total(chronology, child) == 2, what="both entries for the lead")
    wait_for(lambda: graph_total(analytics, child) == 2, what="both contacts in the lead's graph")

    def family_can_read(svc: ServiceProcess, path: str) -> bool:
        return get(svc, f"/children/{child}/{path}", who="parent-of-child").status_code == 200

    # The family link is the account's second event: it may reach a service a batch after the first.
    wait_for(lambda: family_can_read(chronology, "chronology"), what="the family link in chronology")
    wait_for(lambda: family_can_read(analytics, "contact-graph"), what="the family link in analytics")
    family_page = get(
        chronology, f"/children/{child}/chronology", who="parent-of-child", kind="contact"
    ).json()
    assert [e["summary"] for e in family_page["entries"]] == ["Visited; the family was welcoming."]
    family_graph = get(analytics, f"/children/{child}/contact-graph", who="parent-of-child")
    assert family_graph.status_code == 200, family_graph.text
    assert family_graph.json()["total"] == 1
    family_csv = get(chronology, f"/children/{child}/chronology/export.csv", who="parent-of-child").text
    assert "welcoming" in family_csv and "Police intelligence" not in family_csv

    stranger = get(chronology, f"/children/{child}/chronology", who="someone-else")
    assert stranger.status_code == 403
    assert get(analytics, f"/children/{child}/contact-graph", who="someone-else").status_code == 403
    assert get(chronology, f"/children/{child}/chronology", who="parent-of-another-child").status_code == 403
    anonymous = httpx.get(f"{chronology.url}/children/{child}/chronology", timeout=10)
    assert anonymous.status_code == 401


def test_the_lead_marks_significance_and_the_mark_is_published(
    infra: Endpoints, stack: dict[str, ServiceProcess]
) -> None:
    agency = Agency(infra, TOPICS)
    child = new_child(infra, parent="parent-of-child")
    event = contact_event(child, summary="Disclosed worries about home at school.")
    agency.publish(event, key=child)
    agency.flush()
    chronology = stack["chronology"]
    wait_for(lambda: chronology_total(chronology, child) == 1, what="the entry")
    path = f"/children/{child}/chronology/school:{event['id']}/significance"
    body = {"significant": True, "reason": "First disclosure: a turning point in the case."}

    refused = httpx.put(
        chronology.url + path, json=body, headers=IDS.headers("parent-of-child", kind="family")
    )
    assert refused.status_code == 403
    marked = httpx.put(chronology.url + path, json=body, headers=IDS.headers(LEAD), timeout=10)
    assert marked.status_code == 200, marked.text
    assert marked.json()["significant"] is True and marked.json()["significance_marked"] is True
    only = get(chronology, f"/children/{child}/chronology", significant_only="true").json()
    assert [e["id"] for e in only["entries"]] == [f"school:{event['id']}"]

    published = read_topic(infra, TOPICS.chronology_events, event["id"])
    assert published["type"] == "entry.significance_marked"
    assert published["data"]["by_person_id"] == LEAD


def test_corrections_supersede_and_duplicates_from_two_agencies_are_grouped(
    infra: Endpoints, stack: dict[str, ServiceProcess]
) -> None:
    agency = Agency(infra, TOPICS)
    child = new_child(infra)
    original = contact_event(child, summary="Home visit on the wrong day.")
    correction = contact_event(child, summary="Home visit: date corrected.")
    correction["data"]["supersedes"] = original["id"]
    police = contact_event(child, summary="Police attended the same home visit.")
    police["source"] = police["data"]["agency"] = "police"
    agency.publish(correction, key=child)  # out of order: the correction first
    agency.publish(original, key=child)
    agency.publish(police, key=child, agency="police")
    agency.flush()
    chronology = stack["chronology"]
    wait_for(lambda: chronology_total(chronology, child) == 3, what="three entries")
    entries = {e["id"]: e for e in get(chronology, f"/children/{child}/chronology").json()["entries"]}
    original_id, correction_id = f"school:{original['id']}", f"school:{correction['id']}"
    assert entries[original_id]["superseded_by"] == correction_id
    assert entries[correction_id]["supersedes"] == original_id
    group = entries[f"police:{police['id']}"]["duplicate_group"]
    assert group is not None and entries[correction_id]["duplicate_group"] == group
    assert entries[original_id]["duplicate_group"] is None  # a superseded entry is not a duplicate


def read_topic(infra: Endpoints, topic: str, marker: str, within: float = 30.0) -> dict[str, Any]:
    """The first event on `topic` whose JSON mentions `marker`."""
    consumer = Consumer(
        {
            **infra.librdkafka(),
            "group.id": f"reader-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
        }
    )
    consumer.subscribe([topic])
    deadline = time.monotonic() + within
    try:
        while time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is not None and not msg.error() and marker.encode() in (msg.value() or b""):
                found: dict[str, Any] = json.loads(msg.value() or b"{}")
                return found
    finally:
        consumer.close()
    raise AssertionError(f"nothing about {marker} on {topic} within {within}s")


def test_team_changes_appear_on_the_timeline(infra: Endpoints, stack: dict[str, ServiceProcess]) -> None:
    child = new_child(infra)
    chronology = stack["chronology"]

    def account_entries() -> list[dict[str, Any]]:
        response = get(chronology, f"/children/{child}/chronology", kind="account")
        return list(response.json()["entries"]) if response.status_code == 200 else []

    wait_for(lambda: len(account_entries()) == 1, what="the account-opened entry")
    entry = account_entries()[0]
    # the summary names a role, the author who (as the reader may see them: issue 9, rules 4 and 7)
    assert entry["summary"] == "Account opened; a Social worker (socialcare) is the lead professional."
    assert entry["author"]["name"] == "Test lead-practitioner"
    assert entry["kind"] == "account" and entry["visibility"] == "family_visible"
