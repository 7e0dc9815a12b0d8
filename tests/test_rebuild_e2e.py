"""Rebuilding the read models from the topics, through the real broker and FerretDB (chronology and analytics
in-process, consuming live on a run's own topics; the rebuild replaying the same topics beside them): the
rebuilt chronology, contact graph and keyword cloud equal the live ones by counts and per-child checksums;
reads keep answering through the swap, and what the live consumers write during the rebuild is kept; a
difference is caught, printed, and nothing is swapped."""

from __future__ import annotations

import asyncio
import io
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from faststream.kafka import KafkaBroker

from analytics import readmodels as analytics_models
from analytics.app import create_app as analytics_app
from analytics.cloud.keywords import KeywordPool
from analytics.settings import AnalyticsSettings
from chronology import readmodels as chronology_models
from chronology.app import create_app as chronology_app
from chronology.settings import ChronologySettings
from devstack import service_users
from devstack.infra import Endpoints
from shared import mongo
from shared.access import AccessSnapshots
from shared.audit import MemoryAuditSink
from shared.kafka.broker import publish_event
from shared.readmodel import POINTERS, ReadModel
from shared.rebuild import Options, rebuild
from shared.rebuild.replay import Kafka
from shared.settings import ServiceSettings
from shared.topics import Topics, ensure_topics
from testsupport.events import account_opened, contact_event, new_nhs_number
from testsupport.forum_events import participant, scale_recorded
from testsupport.identities import Identities
from testsupport.offline import eventually_async

pytestmark = pytest.mark.integration
IDS = Identities()
LEAD = "lead-1"
LEADER = participant(LEAD)
SUMMARIES = [
    "Home visit: the kitchen was cold and there was no food in the fridge.",
    "School reports the child arrived hungry and without a coat again.",
    "GP appointment missed; the health visitor will follow up the missed immunisations.",
    "Police attended a report of shouting at the address late at night.",
    "The child said they were worried about their mother's drinking.",
]


@dataclass
class Stack:
    infra: Endpoints
    topics: Topics
    chronology: httpx.AsyncClient
    analytics: httpx.AsyncClient
    broker: KafkaBroker
    client: Any
    settings: dict[str, ServiceSettings]

    @property
    def headers(self) -> dict[str, str]:
        return IDS.headers(LEAD)

    async def publish_contacts(self, child: str, count: int, *, start: int = 0) -> list[str]:
        ids = []
        for i in range(start, start + count):
            event = contact_event(
                child,
                agency=("school", "health", "police")[i % 3],
                occurred_at=datetime(2026, 1, 5, 9, tzinfo=UTC) + timedelta(days=3 * i),
                summary=SUMMARIES[i % len(SUMMARIES)],
                visibility="restricted" if i % 4 == 3 else "family_visible",
            )
            await publish_event(self.broker, self.topics.contact(event.data.agency), event)
            ids.append(event.id)
        return ids

    async def views(self, child: str) -> dict[str, Any]:
        """What a lead reads of the child from the three read models."""
        answers = await asyncio.gather(
            self.chronology.get(f"/children/{child}/chronology?limit=500", headers=self.headers),
            self.analytics.get(f"/children/{child}/contact-graph", headers=self.headers),
            self.analytics.get(f"/children/{child}/keyword-cloud", headers=self.headers),
            self.analytics.get(f"/children/{child}/safety-scales", headers=self.headers),
        )
        assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
        names = ("chronology", "graph", "cloud", "scales")
        return dict(zip(names, (a.json() for a in answers), strict=True))

    async def until_contacts(self, child: str, count: int) -> None:
        """`count` contacts and one correction: the chronology shows both, the graph and cloud the correction
        in place of what it corrects."""

        async def there() -> bool:
            try:
                seen = await self.views(child)
            except AssertionError:
                return False
            contacts = [e for e in seen["chronology"]["entries"] if e.get("kind") == "contact"]
            scales = [e for e in seen["chronology"]["entries"] if e.get("kind") == "forum"]
            return (
                len(contacts) == count + 1
                and len(scales) == 2
                and seen["graph"]["total"] == count
                and seen["cloud"]["documents"] == count
                and [len(line["points"]) for line in seen["scales"]["lines"]] == [2]
            )

        await eventually_async(there, what=f"{count} contacts and two scales in every read model", within=60)

    async def rebuild(self, service: str, **options: Any) -> tuple[int, str]:
        out = io.StringIO()
        settings = self.settings[service]
        db = self.client[settings.database]
        pool = KeywordPool(1)
        await pool.start()
        try:
            models: list[ReadModel[Any]] = (
                list(chronology_models.read_models(self.topics))
                if service == "chronology"
                else list(analytics_models.read_models(self.topics, pool=pool, snapshots=AccessSnapshots(db)))
            )
            status = await rebuild(
                db=db,
                kafka=Kafka(self.infra.kafka_bootstrap, self.infra.kafka_admin),
                group_id=settings.group_id,
                models=models,
                options=Options(batch=50, **options),
                out=out,
            )
        finally:
            await pool.stop()
        return status, out.getvalue()

    async def served(self, service: str) -> dict[str, int]:
        db = self.client[self.settings[service].database]
        return {d["_id"]: d["generation"] async for d in db[POINTERS].find({})}


@pytest.fixture
async def stack(infra: Endpoints) -> AsyncIterator[Stack]:
    topics = Topics(prefix=f"t{uuid.uuid4().hex[:8]}.")
    await ensure_topics(infra.kafka_bootstrap, topics.all(), credentials=infra.kafka_admin)
    service_users.grant_run(infra.kafka_bootstrap, topics)
    common: dict[str, Any] = {
        "kafka_bootstrap": infra.kafka_bootstrap,
        "mongo_url": infra.mongo_url,
        "topic_prefix": topics.prefix,
        "consumer_group_suffix": f"-{uuid.uuid4().hex[:8]}",
        "auth_jwks": IDS.jwks_json(),
        "batch_max_records": 50,
    }
    chronology = ChronologySettings(**common, mongo_db=f"test_{uuid.uuid4().hex}")
    analytics = AnalyticsSettings(**common, mongo_db=f"test_{uuid.uuid4().hex}")
    settings: dict[str, ServiceSettings] = {"chronology": chronology, "analytics": analytics}
    apps = [
        chronology_app(chronology, audit_sink=MemoryAuditSink()),
        analytics_app(analytics, audit_sink=MemoryAuditSink()),
    ]
    publisher = KafkaBroker(infra.kafka_bootstrap, security=infra.kafka_admin.faststream())
    await publisher.start()
    client = mongo.connect(infra.mongo_url, app_name="test")
    try:
        async with AsyncExitStack() as stack:
            clients = []
            for app, name in zip(apps, ("chronology", "analytics"), strict=True):
                await stack.enter_async_context(app.router.lifespan_context(app))
                transport = httpx.ASGITransport(app=app)
                clients.append(
                    await stack.enter_async_context(
                        httpx.AsyncClient(transport=transport, base_url=f"http://{name}", timeout=30)
                    )
                )
            yield Stack(infra, topics, clients[0], clients[1], publisher, client, settings)
    finally:
        await publisher.stop()
        for s in settings.values():
            await client.drop_database(s.database)
        await client.close()


async def _child_with_contacts(stack: Stack, count: int) -> str:
    child = new_nhs_number()
    for event in account_opened(child, lead_id=LEAD):
        await publish_event(stack.broker, stack.topics.accounts_events, event)

    # The cloud leaves out the names its access snapshot knows when a contact arrives; a contact kept before the
    # snapshot knew the child's name ("Test Child") would keep "child ..." phrases that a rebuild, knowing the
    # name, leaves out: a true difference the check reports. So the contacts follow the account here.
    async def known() -> bool:
        answers = await asyncio.gather(
            stack.chronology.get(f"/children/{child}/chronology", headers=stack.headers),
            stack.analytics.get(f"/children/{child}/keyword-cloud", headers=stack.headers),
        )
        return all(a.status_code == 200 for a in answers)

    await eventually_async(known, what="both services knowing the child's account", within=60)
    ids = await stack.publish_contacts(child, count)
    for score in (3, 6):  # and the lead's safety scales, recorded in the forum
        await publish_event(stack.broker, stack.topics.forum_events, scale_recorded(child, score, by=LEADER))
    correction = contact_event(
        child,
        agency="school",
        summary="Correction: the coat was found in the child's bag.",
        supersedes=ids[0],
    )
    await publish_event(stack.broker, stack.topics.contact("school"), correction)
    await stack.until_contacts(child, count)
    return child


async def test_a_rebuild_reproduces_the_live_read_models_exactly(stack: Stack) -> None:
    children = [await _child_with_contacts(stack, n) for n in (6, 9)]
    before = {child: await stack.views(child) for child in children}

    status, report = await stack.rebuild("chronology")
    assert status == 0, report
    assert "chronology: EQUAL" in report
    status, report = await stack.rebuild("analytics")
    assert status == 0, report
    assert "graph: EQUAL" in report and "cloud: EQUAL" in report and "scales: EQUAL" in report
    # Every document's keywords came from the served generation: YAKE ran on none of them.
    assert "17 keywords reused, 0 extracted" in report, report

    assert await stack.served("chronology") == {"chronology": 1}
    assert await stack.served("analytics") == {"graph": 1, "cloud": 1, "scales": 1}
    for child in children:
        assert await stack.views(child) == before[child]
    # A second rebuild builds generation 2 from generation 1 and drops it.
    status, report = await stack.rebuild("chronology")
    assert status == 0 and "dropped generation 1" in report, report
    names = await stack.client[stack.settings["chronology"].database].list_collection_names()
    assert "entries_g2" in names and "entries_g1" not in names and "entries" not in names


async def test_the_check_catches_a_difference_and_nothing_is_swapped(stack: Stack) -> None:
    child = await _child_with_contacts(stack, 4)
    total = (await stack.views(child))["chronology"]["total"]
    db = stack.client[stack.settings["chronology"].database]
    # A served entry altered behind the consumers' back: the topics no longer say what the model holds.
    await db["entries"].update_many({"child_id": child, "agency": "health"}, {"$set": {"summary": "edited"}})

    status, report = await stack.rebuild("chronology")

    assert status == 1, report
    assert "chronology: DIFFERENT" in report
    assert f"child {child}" in report
    assert "nothing swapped" in report
    assert await stack.served("chronology") == {}
    assert (await stack.views(child))["chronology"]["total"] == total


async def test_reads_keep_answering_through_the_swap_and_live_writes_are_kept(stack: Stack) -> None:
    child = await _child_with_contacts(stack, 6)
    first = (await stack.views(child))["chronology"]["total"]
    totals: list[int] = []
    failures: list[str] = []
    done = asyncio.Event()

    async def read() -> None:
        while not done.is_set():
            answer = await stack.chronology.get(
                f"/children/{child}/chronology?limit=1", headers=stack.headers
            )
            if answer.status_code != 200:
                failures.append(answer.text)
            else:
                totals.append(answer.json()["total"])
            await asyncio.sleep(0.02)

    async def write_meanwhile() -> None:
        await asyncio.sleep(0.5)
        await stack.publish_contacts(child, 5, start=100)

    reader = asyncio.create_task(read())
    writer = asyncio.create_task(write_meanwhile())
    try:
        status, report = await stack.rebuild("chronology")
        await writer
        await asyncio.sleep(2.5)  # and on, until the service has surely moved to the new generation
    finally:
        done.set()
        await reader
    assert status == 0, report
    assert not failures
    assert len(totals) >= 10 and min(totals) >= first, totals
    assert totals == sorted(totals), "a read saw fewer entries than one before it"
    assert await stack.served("chronology") == {"chronology": 1}

    async def all_there() -> bool:
        answer = await stack.chronology.get(f"/children/{child}/chronology?limit=1", headers=stack.headers)
        return bool(answer.json()["total"] == first + 5)

    await eventually_async(all_there, what="the contacts published during the rebuild, served")
    status, report = await stack.rebuild("chronology")
    assert status == 0 and "chronology: EQUAL" in report, report
