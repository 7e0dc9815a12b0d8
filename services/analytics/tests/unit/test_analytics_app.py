"""Analytics through its composition root, with no server: `create_app` with in-memory store, access
snapshots and audit sink; Kafka handlers driven by FastStream's in-memory broker, routes over ASGI."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from analytics_fakes import FakeAnalyticsStore, FakeCloudStore, FakeScaleStore, InlineKeywords
from faststream.kafka import KafkaBroker, TestKafkaBroker

from analytics.app import create_app
from analytics.settings import AnalyticsSettings
from shared.audit import MemoryAuditSink
from shared.contracts.identity import ContactIdentified, contact_identified
from shared.events import Envelope
from shared.kafka.broker import publish_event
from shared.policy import PrincipalKind
from shared.topics import Topics
from testsupport.events import account_opened, contact_event, entry_id_of, new_nhs_number
from testsupport.identities import Identities
from testsupport.memory import MemoryAccessSnapshots
from testsupport.offline import offline_settings

IDS = Identities()
LEAD, PARENT = "lead-1", "parent-1"
TOPICS = Topics(prefix="unit.")
MONDAY = datetime(2026, 3, 2, 9, tzinfo=UTC)


@dataclass
class Analytics:
    store: FakeAnalyticsStore
    audit: MemoryAuditSink
    broker: KafkaBroker
    http: httpx.AsyncClient
    cloud: FakeCloudStore

    async def publish(self, topic: str, *events: Envelope[Any]) -> None:
        for event in events:
            await publish_event(self.broker, topic, event)

    async def open_account(self, child: str) -> None:
        await self.publish(TOPICS.accounts_events, *account_opened(child, lead_id=LEAD, family_id=PARENT))

    async def graph(self, child: str, *, who: str = LEAD, granularity: str = "week") -> httpx.Response:
        kind: PrincipalKind = "family" if who == PARENT else "practitioner"
        return await self.http.get(
            f"/children/{child}/contact-graph",
            params={"granularity": granularity},
            headers=IDS.headers(who, kind=kind),
        )

    async def series(self, child: str, **how: str) -> list[tuple[str, list[tuple[str, int]]]]:
        response = await self.graph(child, **how)
        assert response.status_code == 200, response.text
        return [(s["agency"], [tuple(p) for p in s["points"]]) for s in response.json()["series"]]


@pytest.fixture
async def analytics() -> AsyncIterator[Analytics]:
    store, audit, cloud = FakeAnalyticsStore(), MemoryAuditSink(), FakeCloudStore()
    settings = AnalyticsSettings(**offline_settings(IDS), topic_prefix=TOPICS.prefix)
    app = create_app(
        settings,
        store=store,
        cloud=cloud,
        scales=FakeScaleStore(),
        keywords=InlineKeywords(),
        snapshots=MemoryAccessSnapshots(),
        audit_sink=audit,
    )
    async with (
        TestKafkaBroker(app.state.runtime.broker) as broker,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://analytics") as http,
    ):
        yield Analytics(store, audit, broker, http, cloud)


async def test_contacts_on_agency_topics_are_counted_per_agency_per_week(analytics: Analytics) -> None:
    child = new_nhs_number()
    await analytics.open_account(child)

    await analytics.publish(
        TOPICS.contact("school"),
        contact_event(child, occurred_at=MONDAY),
        contact_event(child, occurred_at=MONDAY + timedelta(days=3)),
        contact_event(child, occurred_at=MONDAY + timedelta(days=7)),
    )
    await analytics.publish(
        TOPICS.contact("police"), contact_event(child, agency="police", occurred_at=MONDAY)
    )

    assert await analytics.series(child) == [
        ("police", [("2026-03-02", 1)]),
        ("school", [("2026-03-02", 2), ("2026-03-09", 1)]),
    ]
    assert await analytics.series(child, granularity="day") == [
        ("police", [("2026-03-02", 1)]),
        ("school", [("2026-03-02", 1), ("2026-03-05", 1), ("2026-03-09", 1)]),
    ]


async def test_the_same_event_published_twice_is_counted_once(analytics: Analytics) -> None:
    child = new_nhs_number()
    await analytics.open_account(child)
    event = contact_event(child)

    await analytics.publish(TOPICS.contact("school"), event, event)

    assert (await analytics.graph(child)).json()["total"] == 1
    assert list(analytics.store.stored) == [entry_id_of(event)]


async def test_a_contact_identified_by_accounts_is_counted_under_that_child(analytics: Analytics) -> None:
    child = new_nhs_number()
    await analytics.open_account(child)
    unnamed = contact_event(
        "school-ref-7",
        child={
            "given_name": "Sam",
            "family_name": "Test",
            "date_of_birth": "2016-05-04",
            "postcode": "AB1 2CD",
        },
    )

    await analytics.publish(TOPICS.contact("school"), unnamed)
    assert analytics.store.stored == {}
    await analytics.publish(
        TOPICS.identity_events,
        contact_identified(ContactIdentified(child_id=child, how="exact_match", contact=unnamed)),
    )

    assert (await analytics.graph(child)).json()["total"] == 1


async def test_the_familys_graph_leaves_restricted_contacts_out_and_strangers_are_refused(
    analytics: Analytics,
) -> None:
    child = new_nhs_number()
    await analytics.open_account(child)
    await analytics.publish(TOPICS.contact("school"), contact_event(child))
    await analytics.publish(
        TOPICS.contact("police"), contact_event(child, agency="police", visibility="restricted")
    )

    assert (await analytics.graph(child)).json()["total"] == 2
    family = await analytics.graph(child, who=PARENT)
    assert family.status_code == 200 and family.json()["total"] == 1
    assert [s["agency"] for s in family.json()["series"]] == ["school"]
    assert (await analytics.graph(child, who="someone-else")).status_code == 403
    assert (await analytics.http.get(f"/children/{child}/contact-graph")).status_code == 401


async def test_every_graph_read_is_audited_refusals_included(analytics: Analytics) -> None:
    child = new_nhs_number()
    await analytics.open_account(child)

    await analytics.graph(child, who=PARENT)
    await analytics.graph(child, who="someone-else")

    audited = [(e.data.actor_id, e.data.action, e.data.allowed, e.data.view) for e in analytics.audit.events]
    assert audited == [(PARENT, "read_graph", True, "family"), ("someone-else", "read_graph", False, None)]


async def test_a_correction_replaces_what_it_corrects_in_the_graph(analytics: Analytics) -> None:
    child = new_nhs_number()
    await analytics.open_account(child)
    original = contact_event(child, occurred_at=MONDAY)
    fixed = contact_event(child, occurred_at=MONDAY + timedelta(days=8), supersedes=original.id)

    await analytics.publish(TOPICS.contact("school"), original, fixed)

    assert await analytics.series(child) == [("school", [("2026-03-09", 1)])]
    assert (await analytics.graph(child)).json()["total"] == 1


async def test_the_graph_chooses_weeks_or_months_for_the_span_and_shows_the_silent_ones(
    analytics: Analytics,
) -> None:
    child = new_nhs_number()
    await analytics.open_account(child)
    early, late = (
        contact_event(child, occurred_at=MONDAY),
        contact_event(child, occurred_at=MONDAY + timedelta(days=21)),
    )
    await analytics.publish(TOPICS.contact("school"), early, late)

    weeks = (await analytics.graph(child, granularity="auto")).json()
    assert weeks["granularity"] == "week"
    assert weeks["periods"] == ["2026-03-02", "2026-03-09", "2026-03-16", "2026-03-23"]

    await analytics.publish(
        TOPICS.contact("school"), contact_event(child, occurred_at=MONDAY + timedelta(days=300))
    )
    months = (await analytics.graph(child, granularity="auto")).json()
    assert months["granularity"] == "month"
    assert months["periods"][0] == "2026-03-01" and months["periods"][-1] == "2026-12-01"
    assert len(months["periods"]) == 10
    assert await analytics.series(child, granularity="month") == [
        ("school", [("2026-03-01", 2), ("2026-12-01", 1)])
    ]


# --- the keyword cloud -------------------------------------------------------------------------------------


async def _cloud(analytics: Analytics, child: str, *, who: str = LEAD) -> dict[str, int]:
    kind: PrincipalKind = "family" if who == PARENT else "practitioner"
    response = await analytics.http.get(
        f"/children/{child}/keyword-cloud", headers=IDS.headers(who, kind=kind)
    )
    assert response.status_code == 200, response.text
    return {t["term"]: t["documents"] for t in response.json()["terms"]}


MISSED = "Missed dental appointment again. Mum says the car broke down."
ATTENDANCE = "Low school attendance this term; missed dental appointment letter sent home."
SHOUTING = "Neighbour reported shouting at the flat late at night; police attended."


async def test_the_cloud_counts_the_documents_a_keyword_comes_up_in(analytics: Analytics) -> None:
    child = new_nhs_number()
    await analytics.open_account(child)
    await analytics.publish(TOPICS.contact("health"), contact_event(child, agency="health", summary=MISSED))
    await analytics.publish(TOPICS.contact("school"), contact_event(child, summary=ATTENDANCE))

    cloud = await _cloud(analytics, child)
    assert cloud["dental appointment"] == 2
    assert "missed dental" in cloud or "missed" in " ".join(cloud)
    assert "dental" not in cloud  # a word already in a kept phrase is not counted again on its own


async def test_the_familys_cloud_has_no_word_from_a_restricted_entry(analytics: Analytics) -> None:
    child = new_nhs_number()
    await analytics.open_account(child)
    await analytics.publish(TOPICS.contact("school"), contact_event(child, summary=ATTENDANCE))
    await analytics.publish(
        TOPICS.contact("police"),
        contact_event(child, agency="police", summary=SHOUTING, visibility="restricted"),
    )

    practitioners, family = await _cloud(analytics, child), await _cloud(analytics, child, who=PARENT)
    assert any("police" in t or "shouting" in t for t in practitioners)
    assert not any(w in t for t in family for w in ("police", "shouting", "neighbour", "flat"))
    assert family and set(family) <= set(practitioners)


async def test_no_one_is_named_in_the_cloud(analytics: Analytics) -> None:
    child = new_nhs_number()
    await analytics.open_account(child)  # the child is "Test Child"; the lead "Test lead-1"; a parent linked
    summary = "Priya Sharma visited; Child was calm. Parent engaged well with the safety plan review."
    await analytics.publish(
        TOPICS.contact("school"),
        contact_event(child, summary=summary, author={"name": "Priya Sharma", "role": "Teacher"}),
    )

    terms = " ".join(await _cloud(analytics, child)).split()
    assert terms, "the summary has words worth keeping"
    assert not {"priya", "sharma", "test", "child", "parent"} & set(terms)


async def test_a_correction_takes_the_words_it_corrects_out_whichever_arrives_first(
    analytics: Analytics,
) -> None:
    for correction_first in (False, True):
        child = new_nhs_number()
        await analytics.open_account(child)
        original = contact_event(child, summary=SHOUTING)
        fixed = contact_event(child, summary=ATTENDANCE, supersedes=original.id)
        for event in (fixed, original) if correction_first else (original, fixed):
            await analytics.publish(TOPICS.contact("school"), event)

        cloud = await _cloud(analytics, child)
        assert not any("shouting" in t or "police" in t for t in cloud), cloud
        assert "dental appointment" in cloud


async def test_a_redelivered_contact_is_neither_extracted_nor_counted_twice(analytics: Analytics) -> None:
    child = new_nhs_number()
    await analytics.open_account(child)
    event = contact_event(child, summary=MISSED)
    await analytics.publish(TOPICS.contact("school"), event, event)

    assert (await _cloud(analytics, child))["dental appointment"] == 1
    assert len(analytics.cloud.documents) == 1


async def test_a_word_lists_the_entries_it_came_from_as_the_reader_may_see_them(analytics: Analytics) -> None:
    child = new_nhs_number()
    await analytics.open_account(child)
    clinic = contact_event(child, agency="health", summary=MISSED, sensitive_service=True)
    school = contact_event(child, summary=ATTENDANCE, visibility="restricted")
    await analytics.publish(TOPICS.contact("health"), clinic)
    await analytics.publish(TOPICS.contact("school"), school)

    async def entries(who: str) -> list[tuple[str, str]]:
        kind: PrincipalKind = "family" if who == PARENT else "practitioner"
        response = await analytics.http.get(
            f"/children/{child}/keyword-cloud/entries",
            params={"term": "Dental Appointment"},
            headers=IDS.headers(who, kind=kind),
        )
        assert response.status_code == 200, response.text
        return [(e["entry_id"], e["agency"]) for e in response.json()["entries"]]

    lead = await entries(LEAD)  # the lead may know which service it was
    assert sorted(lead) == sorted([(entry_id_of(clinic), "health"), (entry_id_of(school), "school")])
    family = await entries(PARENT)  # the restricted entry is not the family's; the clinic stays unnamed
    assert family == [(entry_id_of(clinic), "a confidential health service")]


async def test_every_cloud_read_is_authorized_and_audited(analytics: Analytics) -> None:
    child = new_nhs_number()
    await analytics.open_account(child)
    stranger = await analytics.http.get(
        f"/children/{child}/keyword-cloud", headers=IDS.headers("someone-else")
    )
    assert stranger.status_code == 403
    assert (await analytics.http.get(f"/children/{child}/keyword-cloud")).status_code == 401
    await _cloud(analytics, child, who=PARENT)

    audited = [(e.data.actor_id, e.data.action, e.data.allowed) for e in analytics.audit.events]
    assert audited == [("someone-else", "read_cloud", False), (PARENT, "read_cloud", True)]
