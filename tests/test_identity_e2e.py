"""A contact without an NHS number: matched to the child exactly, or held until a manager says who it was.

Accounts and chronology run as processes; the agency side is confluent-kafka (a foreign client).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from confluent_kafka import Producer

from devstack.infra import Endpoints
from shared.topics import Topics
from testsupport.accounts import seed_demo, signed_in_token
from testsupport.services import IsolatedRun, ServiceProcess, wait_for

pytestmark = pytest.mark.e2e
LOGS = Path(__file__).resolve().parent.parent / ".cache" / "test-logs"
TOPICS = Topics(prefix=f"t{uuid.uuid4().hex[:8]}.")
PASSWORD = f"demo-{uuid.uuid4().hex[:12]}"


AMY = "9434765919"  # demo child: Amy Example, born 2014-05-14, LS6 2AB; lead sam.okafor


def contact(child: dict[str, str], summary: str) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "type": "contact.recorded",
        "version": 1,
        "source": "housing",
        "subject": "housing-ref-" + uuid.uuid4().hex[:6],  # the agency's own reference: it has no NHS number
        "time": "2026-10-01T10:00:00Z",
        "data": {
            "agency": "housing",
            "author": {"name": "Jo Reed", "role": "Housing officer"},
            "child": child,
            "occurred_at": "2026-10-01T09:00:00Z",
            "contact_type": "housing_visit",
            "summary": summary,
            "impact": "neutral",
            "visibility": "family_visible",
        },
    }


class Stack:
    def __init__(self, accounts: ServiceProcess, chronology: ServiceProcess) -> None:
        self.accounts = accounts
        self.chronology = chronology

    def headers(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {signed_in_token(self.accounts.url, username, PASSWORD)}"}

    def summaries(self) -> list[str]:
        response = httpx.get(
            f"{self.chronology.url}/children/{AMY}/chronology",
            params={"kind": "contact"},
            headers=self.headers("sam.okafor"),
            timeout=10,
        )
        return [e["summary"] for e in response.json()["entries"]] if response.status_code == 200 else []


@pytest.fixture(scope="module")
def stack(infra: Endpoints) -> Iterator[Stack]:
    run = IsolatedRun.with_topics(infra, topics=TOPICS, log_dir=LOGS)
    service = run.service

    accounts = service("accounts").start()
    try:
        seed_demo(accounts, password=PASSWORD)
        chronology = service("chronology", AUTH_JWKS_URL=f"{accounts.url}/.well-known/jwks.json").start()
        try:
            yield Stack(accounts, chronology)
        finally:
            chronology.stop()
    finally:
        accounts.stop()


def publish(infra: Endpoints, event: dict[str, Any]) -> None:
    producer = Producer({**infra.librdkafka(), "acks": "all", "enable.idempotence": True})
    producer.produce(TOPICS.contact("housing"), json.dumps(event).encode(), key=event["subject"].encode())
    assert producer.flush(30) == 0


AMY_BY_NAME = {
    "given_name": "Amy",
    "family_name": "Example",
    "date_of_birth": "2014-05-14",
    "postcode": "ls6 2ab",
}


def test_a_contact_that_names_the_child_exactly_reaches_their_chronology(
    infra: Endpoints, stack: Stack
) -> None:
    summary = f"Damp in the bedroom; repairs booked ({uuid.uuid4().hex[:6]})."
    publish(infra, contact(AMY_BY_NAME, summary))
    wait_for(lambda: summary in stack.summaries(), what="the exactly matched contact in Amy's chronology")


def test_an_uncertain_contact_waits_for_a_manager_and_then_flows_on(infra: Endpoints, stack: Stack) -> None:
    summary = f"Family moved to temporary accommodation ({uuid.uuid4().hex[:6]})."
    event = contact({**AMY_BY_NAME, "given_name": "Aimee"}, summary)  # close, not equal: a person decides
    publish(infra, event)
    held_as = f"{event['data']['agency']}:{event['id']}"  # waiting contacts are keyed within their agency
    manager = stack.headers("mia.clarke")

    def waiting() -> list[dict[str, Any]]:
        response = httpx.get(f"{stack.accounts.url}/contact-matches", headers=manager, timeout=10)
        assert response.status_code == 200, response.text
        return [m for m in response.json() if m["id"] == held_as]

    wait_for(lambda: len(waiting()) == 1, what="the contact waiting for a person")
    assert waiting()[0]["candidates"] == [AMY]
    assert summary not in stack.summaries()  # never merged silently

    practitioner = httpx.get(
        f"{stack.accounts.url}/contact-matches", headers=stack.headers("sam.okafor"), timeout=10
    )
    assert practitioner.status_code == 403
    resolved = httpx.post(
        f"{stack.accounts.url}/contact-matches/{held_as}/resolve",
        json={"child_id": AMY},
        headers=manager,
        timeout=10,
    )
    assert resolved.status_code == 200, resolved.text
    wait_for(lambda: summary in stack.summaries(), what="the confirmed contact in Amy's chronology")
    again = httpx.post(
        f"{stack.accounts.url}/contact-matches/{held_as}/resolve",
        json={"child_id": AMY},
        headers=manager,
        timeout=10,
    )
    assert again.status_code == 409
