"""Access changes take effect everywhere and fail closed (issue 9, rule 8), through the real apps of every
service that keeps an access snapshot (chronology, analytics, the forum) against the real broker and
MongoDB-wire server:

- a gap in a child's account events stops the service serving that child (503, with a clear message, and the
  refusal audited) until its snapshot has been rebuilt from `accounts.events`;
- an account event that is dead-lettered leaves the child refused, never served with the access it had.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from faststream.kafka import KafkaBroker

import analytics.app
import chronology.app
import forum.app
from analytics.settings import AnalyticsSettings
from chronology.settings import ChronologySettings
from devstack import service_users
from devstack.infra import Endpoints
from forum.settings import ForumSettings
from shared import mongo
from shared.audit import MemoryAuditSink
from shared.contracts.accounts import (
    AccountEvent,
    Actor,
    JoinApproved,
    JoinRequested,
    MemberRemoved,
    account_event,
)
from shared.events import Envelope
from shared.kafka.broker import event_key, publish_event
from shared.topics import Topics, ensure_topics
from testsupport.events import account_opened, person
from testsupport.identities import Identities
from testsupport.offline import eventually_async

pytestmark = pytest.mark.integration
IDS = Identities()
LEAD, TEACHER = "lead-1", "teacher-1"
ACTOR = Actor(person_id=LEAD, name="Test lead", kind="practitioner")


@dataclass(frozen=True)
class Service:
    create_app: Callable[..., Any]
    settings: type[Any]
    read_path: str  # a read of the child's case, "{child}" in it


SERVICES = {
    "chronology": Service(chronology.app.create_app, ChronologySettings, "/children/{child}/chronology"),
    "analytics": Service(analytics.app.create_app, AnalyticsSettings, "/children/{child}/contact-graph"),
    "forum": Service(forum.app.create_app, ForumSettings, "/children/{child}/forum"),
}


@dataclass
class Running:
    http: httpx.AsyncClient
    broker: KafkaBroker
    topics: Topics
    audit: MemoryAuditSink
    read_path: str

    async def publish(self, *events: Envelope[AccountEvent]) -> None:
        for event in events:
            await publish_event(self.broker, self.topics.accounts_events, event)

    async def read(self, child: str, who: str) -> httpx.Response:
        return await self.http.get(self.read_path.format(child=child), headers=IDS.headers(who))


@pytest.fixture(params=sorted(SERVICES))
async def running(infra: Endpoints, request: pytest.FixtureRequest) -> AsyncIterator[Running]:
    service = SERVICES[request.param]
    topics = Topics(prefix=f"t{uuid.uuid4().hex[:8]}.")
    await ensure_topics(infra.kafka_bootstrap, topics.all(), credentials=infra.kafka_admin)
    service_users.grant_run(infra.kafka_bootstrap, topics)  # the broker's ACLs name a run's topics in full
    database = f"test_{uuid.uuid4().hex}"
    settings = service.settings(
        kafka_bootstrap=infra.kafka_bootstrap,
        mongo_url=infra.mongo_url,
        mongo_db=database,
        topic_prefix=topics.prefix,
        consumer_group_suffix=f"-{uuid.uuid4().hex[:8]}",
        auth_jwks=IDS.jwks_json(),
    )
    audit = MemoryAuditSink()
    app = service.create_app(settings, audit_sink=audit)
    publisher = KafkaBroker(infra.kafka_bootstrap, security=infra.kafka_admin.faststream())
    await publisher.start()
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service") as http,
        ):
            yield Running(http, publisher, topics, audit, service.read_path)
    finally:
        await publisher.stop()
        client = mongo.connect(infra.mongo_url, app_name="test")
        await client.drop_database(database)
        await client.close()


def _joined(child: str, seq: int) -> list[Envelope[AccountEvent]]:
    now = datetime.now(UTC)
    asked = JoinRequested(
        child_id=child, seq=seq, actor=ACTOR, at=now, request_id="r1", person=person(TEACHER), reason="DSL"
    )
    approved = JoinApproved(
        child_id=child, seq=seq + 1, actor=ACTOR, at=now, request_id="r1", person=person(TEACHER)
    )
    return [account_event(asked), account_event(approved)]


async def _status(running: Running, child: str, who: str) -> int:
    return (await running.read(child, who)).status_code


async def test_a_gap_in_account_events_is_refused_until_the_snapshot_is_rebuilt(running: Running) -> None:
    child = f"c{uuid.uuid4().hex[:10]}"
    opened = account_opened(child, lead_id=LEAD)  # seq 1
    asked, approved = _joined(child, 2)  # seq 2, 3
    await running.publish(*opened)
    await eventually_status(running, child, LEAD, 200)

    # seq 3 arrives while seq 2 is still on its way: applying it would guess; the service refuses instead
    await running.publish(approved)
    await eventually_status(running, child, LEAD, 503)
    answer = await running.read(child, TEACHER)
    assert answer.status_code == 503
    assert "rebuilding" in answer.json()["detail"]
    assert answer.headers["retry-after"]
    refusals = [e.data for e in running.audit.events if e.subject == child and not e.data.allowed]
    assert refusals and "rebuilding" in refusals[-1].reason

    # the missing event arrives (late, out of order): rebuilt from accounts.events, in seq order
    await running.publish(asked)
    await eventually_status(running, child, TEACHER, 200)
    assert await _status(running, child, LEAD) == 200


async def test_a_dead_lettered_removal_never_leaves_the_removed_member_with_access(running: Running) -> None:
    child = f"c{uuid.uuid4().hex[:10]}"
    await running.publish(*account_opened(child, lead_id=LEAD), *_joined(child, 2))
    await eventually_status(running, child, TEACHER, 200)

    removal = account_event(
        MemberRemoved(
            child_id=child,
            seq=4,
            actor=ACTOR,
            at=datetime.now(UTC),
            person_id=TEACHER,
            reason="left the school",
        )
    )
    # the removal reaches the service damaged: it cannot be decoded, so it is dead-lettered
    broken = removal.model_dump_json().replace('"member.removed"', '"member.removd"').encode()
    await running.broker.publish(broken, topic=running.topics.accounts_events, key=event_key(child))
    await eventually_status(running, child, TEACHER, 503)
    assert await _status(running, child, LEAD) == 503  # nobody is served from a snapshot that missed a change


async def eventually_status(running: Running, child: str, who: str, status: int) -> None:
    last: list[int] = []

    async def answered() -> bool:
        last.append(await _status(running, child, who))
        return last[-1] == status

    try:
        await eventually_async(answered, what=f"{who} to get {status} for the child")
    except AssertionError as err:
        raise AssertionError(f"{err}; the last answers were {last[-5:]}") from None
