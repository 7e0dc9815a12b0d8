"""Forum events in analytics, through its composition root with in-memory fakes: posts in the keyword cloud
(an edit replaces their words, a redaction takes them out, only family-audience posts reach the family's
cloud, no author named) and the safety-scale history (one line per participant, the family's view as the
forum shows it, a confidential practitioner never named to those who may not know them)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest
from analytics_fakes import FakeAnalyticsStore, FakeCloudStore, FakeScaleStore, InlineKeywords
from faststream.kafka import KafkaBroker, TestKafkaBroker

from analytics.app import create_app
from analytics.settings import AnalyticsSettings
from shared.audit import MemoryAuditSink
from shared.events import Envelope
from shared.kafka.broker import publish_event
from shared.policy import HIDDEN_PROVIDER, PrincipalKind
from shared.topics import Topics
from testsupport.events import account_opened, contact_event, new_nhs_number
from testsupport.forum_events import (
    member_joined,
    participant,
    post_added,
    post_edited,
    post_redacted,
    scale_recorded,
)
from testsupport.identities import Identities
from testsupport.memory import MemoryAccessSnapshots
from testsupport.offline import offline_settings

IDS = Identities()
LEAD, PARENT, NURSE, TEACHER = "lead-1", "parent-1", "nurse-1", "teacher-1"
TOPICS = Topics(prefix="unit.")
DENTAL = "Missed dental appointment again; the dental clinic sent a letter."
SCHOOL = "Attendance at school improved; homework club helps a lot."
POLICE = "Police intelligence about the partner's violent history."


@dataclass
class Analytics:
    audit: MemoryAuditSink
    broker: KafkaBroker
    http: httpx.AsyncClient
    cloud: FakeCloudStore
    scales: FakeScaleStore

    async def publish(self, topic: str, *events: Envelope[Any]) -> None:
        for event in events:
            await publish_event(self.broker, topic, event)

    async def forum(self, *events: Envelope[Any]) -> None:
        await self.publish(TOPICS.forum_events, *events)

    async def open_account(self, *, shielded: bool = False) -> str:
        child = new_nhs_number()
        opened = account_opened(child, lead_id=LEAD, family_id=PARENT, shielded=shielded)
        await self.publish(TOPICS.accounts_events, *opened)
        await self.publish(TOPICS.accounts_events, *member_joined(child, TEACHER))
        return child

    async def get(self, path: str, who: str = LEAD, **params: str) -> Any:
        kind: PrincipalKind = "family" if who == PARENT else "practitioner"
        response = await self.http.get(path, params=params, headers=IDS.headers(who, kind=kind))
        assert response.status_code == 200, response.text
        return response.json()

    async def words(self, child: str, who: str = LEAD) -> dict[str, int]:
        cloud = await self.get(f"/children/{child}/keyword-cloud", who)
        return {t["term"]: t["documents"] for t in cloud["terms"]}


@pytest.fixture
async def analytics() -> AsyncIterator[Analytics]:
    audit, cloud, scales = MemoryAuditSink(), FakeCloudStore(), FakeScaleStore()
    settings = AnalyticsSettings(**offline_settings(IDS), topic_prefix=TOPICS.prefix)
    app = create_app(
        settings,
        store=FakeAnalyticsStore(),
        cloud=cloud,
        scales=scales,
        keywords=InlineKeywords(),
        snapshots=MemoryAccessSnapshots(),
        audit_sink=audit,
    )
    async with (
        TestKafkaBroker(app.state.runtime.broker) as broker,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://analytics") as http,
    ):
        yield Analytics(audit, broker, http, cloud, scales)


async def test_a_post_is_a_cloud_document_and_an_edit_replaces_its_words(analytics: Analytics) -> None:
    child = await analytics.open_account()
    added = post_added(child, DENTAL, by=participant(LEAD))
    await analytics.forum(added)
    assert "dental appointment" in await analytics.words(child)

    await analytics.forum(post_edited(added, SCHOOL))

    words = await analytics.words(child)
    assert not any("dental" in t for t in words), words
    assert any("homework" in t or "attendance" in t for t in words), words
    assert (await analytics.get(f"/children/{child}/keyword-cloud"))["documents"] == 1


async def test_a_redacted_post_leaves_no_word_and_no_entry(analytics: Analytics) -> None:
    child = await analytics.open_account()
    added = post_added(child, DENTAL, by=participant(LEAD))
    await analytics.forum(added, post_redacted(added))

    assert await analytics.words(child) == {}
    entries = await analytics.get(f"/children/{child}/keyword-cloud/entries", term="dental appointment")
    assert entries["entries"] == []


async def test_a_change_delivered_again_or_out_of_date_changes_nothing(analytics: Analytics) -> None:
    child = await analytics.open_account()
    added = post_added(child, DENTAL, by=participant(LEAD))
    edited = post_edited(added, SCHOOL)
    redacted = post_redacted(added)
    await analytics.forum(added, edited, added, edited)
    after_edit = dict(analytics.cloud.documents)
    await analytics.forum(edited, added)
    assert analytics.cloud.documents == after_edit

    await analytics.forum(redacted, added, edited, redacted)
    assert await analytics.words(child) == {}


async def test_only_family_audience_posts_reach_the_familys_cloud(analytics: Analytics) -> None:
    child = await analytics.open_account()
    await analytics.forum(
        post_added(child, SCHOOL, by=participant(LEAD), audience="family"),
        post_added(child, POLICE, by=participant(LEAD), audience="practitioners"),
    )

    team, family = await analytics.words(child), await analytics.words(child, PARENT)
    assert any("police" in t or "intelligence" in t for t in team), team
    assert family and not any(w in t for t in family for w in ("police", "intelligence", "partner"))
    assert set(family) <= set(team)


async def test_no_author_child_or_family_name_is_in_a_cloud_of_posts(analytics: Analytics) -> None:
    child = await analytics.open_account()  # the child "Test Child", the parent "Test parent"
    author = participant("nurse-9", name="Ayesha Okonkwo")
    body = (
        "Ayesha Okonkwo saw Child with parent today; Test agreed the safety plan review and bedtime routine."
    )
    await analytics.forum(post_added(child, body, by=author))

    for who in (LEAD, PARENT):
        terms = " ".join(await analytics.words(child, who)).split()
        assert terms, "the post has words worth keeping"
        assert not {"ayesha", "okonkwo", "test", "child", "parent"} & set(terms)


async def test_a_word_lists_the_posts_it_came_from_as_the_reader_may_see_them(analytics: Analytics) -> None:
    child = await analytics.open_account()
    shared = post_added(child, DENTAL, by=participant(LEAD), audience="family", post_id="p-shared")
    private = post_added(child, DENTAL, by=participant(LEAD), audience="practitioners", post_id="p-team")
    await analytics.forum(shared, private)

    async def posts(who: str) -> list[str | None]:
        found = await analytics.get(
            f"/children/{child}/keyword-cloud/entries", who, term="dental appointment"
        )
        assert all(e["kind"] == "post" and e["agency"] == "forum" for e in found["entries"])
        return sorted(e["post_id"] for e in found["entries"])

    assert await posts(LEAD) == ["p-shared", "p-team"]
    assert await posts(PARENT) == ["p-shared"]


START = datetime(2026, 3, 2, 9, tzinfo=UTC)


async def _scales(analytics: Analytics, child: str, who: str) -> list[tuple[str, str, list[int]]]:
    found = await analytics.get(f"/children/{child}/safety-scales", who)
    return [(ln["person_id"], ln["name"], [p["score"] for p in ln["points"]]) for ln in found["lines"]]


async def test_each_participants_scales_are_one_line_the_familys_first(analytics: Analytics) -> None:
    child = await analytics.open_account()
    parent = participant(PARENT, kind="family", agency=None)
    day = timedelta(days=1)
    await analytics.forum(
        scale_recorded(child, 3, by=participant(LEAD), at=START),
        scale_recorded(child, 5, by=parent, at=START + day),
        scale_recorded(child, 4, by=participant(LEAD), at=START + 2 * day),
        scale_recorded(child, 6, by=parent, at=START + 3 * day),
    )

    assert await _scales(analytics, child, LEAD) == [
        (PARENT, "Test parent-1", [5, 6]),
        (LEAD, "Test lead-1", [3, 4]),
    ]


async def test_the_family_sees_its_own_scales_and_those_shared_with_it(analytics: Analytics) -> None:
    child = await analytics.open_account()
    parent = participant(PARENT, kind="family", agency=None)
    scale = scale_recorded(child, 7, by=parent, at=START)
    await analytics.forum(
        scale,
        scale,  # delivered twice: kept once
        scale_recorded(child, 4, by=participant(LEAD), audience="family", at=START),
        scale_recorded(child, 2, by=participant(TEACHER), audience="practitioners", at=START),
    )

    assert len(analytics.scales.stored) == 3
    assert await _scales(analytics, child, PARENT) == [
        (PARENT, "Test parent-1", [7]),
        (LEAD, "Test lead-1", [4]),
    ]
    assert [p for p, _, _ in await _scales(analytics, child, TEACHER)] == [PARENT, LEAD, TEACHER]


async def test_a_confidential_practitioners_line_is_not_named_to_those_who_may_not_know(
    analytics: Analytics,
) -> None:
    child = await analytics.open_account()
    nurse = participant(NURSE, name="Sam Clinic", agency="health", role="Nurse", confidential=True)
    await analytics.forum(scale_recorded(child, 6, by=nurse, audience="family", at=START))

    hidden = ("confidential", f"A practitioner from {HIDDEN_PROVIDER}", [6])
    assert await _scales(analytics, child, PARENT) == [hidden]
    assert await _scales(analytics, child, TEACHER) == [hidden]
    assert await _scales(analytics, child, LEAD) == [(NURSE, "Sam Clinic", [6])]  # the lead may know
    found = await analytics.get(f"/children/{child}/safety-scales", TEACHER)
    assert "Sam" not in str(found) and "Nurse" not in str(found) and NURSE not in str(found)
    assert [(ln["agency"], ln["role"]) for ln in found["lines"]] == [(None, None)]


async def test_a_shielded_childs_practitioners_lines_are_withheld_from_the_family_and_ordinary_members(
    analytics: Analytics,
) -> None:
    child = await analytics.open_account(shielded=True)
    parent = participant(PARENT, kind="family", agency=None, role="parent")
    lead = participant(LEAD, role="social worker")
    teacher = participant(TEACHER, agency="school", role="teacher")
    nurse = participant(NURSE, name="Sam Clinic", agency="health", role="Nurse", confidential=True)
    day = timedelta(days=1)
    await analytics.forum(
        scale_recorded(child, 3, by=lead, at=START),
        scale_recorded(child, 5, by=parent, at=START + day),
        scale_recorded(child, 4, by=teacher, at=START + 2 * day),
        scale_recorded(child, 6, by=nurse, at=START + 3 * day),
        scale_recorded(child, 7, by=lead, at=START + 4 * day),
    )

    hidden = ("confidential", f"A practitioner from {HIDDEN_PROVIDER}", [6])
    assert await _scales(analytics, child, PARENT) == [
        (PARENT, "Test parent-1", [5]),
        ("withheld-1", "Name withheld (social worker)", [3, 7]),
        ("withheld-2", "Name withheld (teacher)", [4]),
        hidden,
    ]
    assert await _scales(analytics, child, TEACHER) == [
        (PARENT, "Test parent-1", [5]),
        ("withheld-1", "Name withheld (social worker)", [3, 7]),
        (TEACHER, "Test teacher-1", [4]),  # nobody is hidden from themself
        hidden,
    ]
    for who in (PARENT, TEACHER):
        found = await analytics.get(f"/children/{child}/safety-scales", who)
        assert LEAD not in str(found) and "Test lead" not in str(found) and "Sam" not in str(found)
        line = found["lines"][1]
        assert (line["role"], line["agency"], line["details_withheld"]) == (
            "social worker",
            "socialcare",
            True,
        )
        svg = _texts(await _svg(analytics, f"/children/{child}/safety-scales.svg", who))
        assert "Name withheld (social worker)" in svg and "Test lead" not in svg
    assert await _scales(analytics, child, LEAD) == [
        (PARENT, "Test parent-1", [5]),
        (LEAD, "Test lead-1", [3, 7]),
        (TEACHER, "Test teacher-1", [4]),
        (NURSE, "Sam Clinic", [6]),
    ]


async def test_every_scale_read_is_authorized_and_audited(analytics: Analytics) -> None:
    child = await analytics.open_account()
    path = f"/children/{child}/safety-scales"
    assert (await analytics.http.get(path, headers=IDS.headers("someone-else"))).status_code == 403
    assert (await analytics.http.get(path)).status_code == 401
    await analytics.get(path, PARENT)

    audited = [(e.data.actor_id, e.data.action, e.data.allowed) for e in analytics.audit.events]
    assert audited == [("someone-else", "read_forum", False), (PARENT, "read_forum", True)]


async def _svg(analytics: Analytics, path: str, who: str = LEAD) -> ElementTree.Element:
    kind: PrincipalKind = "family" if who == PARENT else "practitioner"
    response = await analytics.http.get(path, headers=IDS.headers(who, kind=kind))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/svg+xml"
    assert "default-src 'none'" in response.headers["content-security-policy"]
    return ElementTree.fromstring(response.text)  # well-formed, whatever the names in it


def _texts(svg: ElementTree.Element) -> str:
    return " ".join(t for t in svg.itertext())


async def test_the_scale_chart_is_served_as_svg_with_names_escaped_and_hidden_as_in_the_json(
    analytics: Analytics,
) -> None:
    child = await analytics.open_account()
    odd = participant(PARENT, kind="family", agency=None, name='Mum <script>alert("x")</script> & co')
    nurse = participant(NURSE, name="Sam Clinic", agency="health", confidential=True)
    await analytics.forum(
        scale_recorded(child, 4, by=odd, at=START),
        scale_recorded(child, 6, by=odd, at=START + timedelta(days=3)),
        scale_recorded(child, 5, by=nurse, at=START + timedelta(days=1)),
    )

    svg = await _svg(analytics, f"/children/{child}/safety-scales.svg", PARENT)
    assert not [e for e in svg.iter() if e.tag.endswith("script")]
    words = _texts(svg)
    assert 'Mum <script>alert("x")</script> & co' in words  # as text, not as markup
    assert f"A practitioner from {HIDDEN_PROVIDER}" in words and "Sam" not in words
    assert "Sam Clinic" in _texts(await _svg(analytics, f"/children/{child}/safety-scales.svg", LEAD))


async def test_the_cloud_and_the_graph_are_served_as_svg_as_the_reader_may_see_them(
    analytics: Analytics,
) -> None:
    child = await analytics.open_account()
    await analytics.forum(
        post_added(child, DENTAL, by=participant(LEAD), audience="family"),
        post_added(child, POLICE, by=participant(LEAD), audience="practitioners"),
    )
    await analytics.publish(TOPICS.contact("school"), contact_event(child, occurred_at=START))

    team = _texts(await _svg(analytics, f"/children/{child}/keyword-cloud.svg"))
    family = _texts(await _svg(analytics, f"/children/{child}/keyword-cloud.svg", PARENT))
    assert "dental appointment" in team and "dental appointment" in family
    assert "intelligence" in team and "intelligence" not in family and "police" not in family
    graph = _texts(await _svg(analytics, f"/children/{child}/contact-graph.svg?granularity=week"))
    assert "School (1)" in graph and "1 contacts from 1 agency" in graph

    audited = [(e.data.action, e.data.detail) for e in analytics.audit.events]
    assert ("read_cloud", "keyword cloud (SVG)") in audited and (
        "read_graph",
        "contact graph (SVG)",
    ) in audited
    stranger = await analytics.http.get(
        f"/children/{child}/contact-graph.svg", headers=IDS.headers("someone-else")
    )
    assert stranger.status_code == 403
