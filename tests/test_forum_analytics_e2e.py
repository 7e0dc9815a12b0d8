"""The forum and analytics together, through the real broker and FerretDB (both apps in-process, on a run's
own topics, analytics with its real pool of YAKE processes): posts reach the keyword cloud, an edit replaces
their words and a redaction takes them out; a practitioner-only post never reaches the family's cloud; nobody
is named in a cloud; the same forum event delivered twice changes nothing; and each participant's safety
scales are one line, the family seeing theirs and those shared with them, a confidential practitioner
unnamed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from faststream.kafka import KafkaBroker

from analytics.app import create_app as analytics_app
from analytics.settings import AnalyticsSettings
from devstack.infra import Endpoints
from forum.app import create_app as forum_app
from forum.settings import ForumSettings
from shared.audit import MemoryAuditSink
from shared.kafka.broker import publish_event
from shared.policy import HIDDEN_PROVIDER, PrincipalKind
from shared.topics import Topics
from testsupport.events import account_opened, new_nhs_number
from testsupport.forum_events import member_joined, participant, post_added
from testsupport.identities import Identities
from testsupport.inprocess import apps_on_a_run
from testsupport.offline import eventually_async

pytestmark = pytest.mark.integration
IDS = Identities()
LEAD, PARENT, TEACHER, NURSE = "lead-1", "parent-1", "priya-sharma", "nurse-1"
WITHIN = 60.0  # the first batch waits for the pool's worker to start and import YAKE


@dataclass
class Both:
    forum: httpx.AsyncClient
    analytics: httpx.AsyncClient
    broker: KafkaBroker
    topics: Topics
    db: Any  # analytics' database, to compare what is stored

    @staticmethod
    def headers(who: str) -> dict[str, str]:
        kind: PrincipalKind = "family" if who == PARENT else "practitioner"
        return IDS.headers(who, kind=kind)

    async def call(self, method: str, path: str, body: Any = None, *, who: str = LEAD) -> dict[str, Any]:
        answer = await self.forum.request(method, path, json=body, headers=self.headers(who))
        assert answer.status_code in (200, 201), answer.text
        found: dict[str, Any] = answer.json()
        return found

    async def get(self, path: str, who: str = LEAD, **params: str) -> dict[str, Any]:
        answer = await self.analytics.get(path, params=params, headers=self.headers(who))
        assert answer.status_code == 200, answer.text
        found: dict[str, Any] = answer.json()
        return found

    async def words(self, child: str, who: str = LEAD) -> set[str]:
        cloud = await self.get(f"/children/{child}/keyword-cloud", who)
        return {t["term"] for t in cloud["terms"]}

    async def until_words(self, child: str, test: Any, what: str, who: str = LEAD) -> set[str]:
        async def there() -> bool:
            return bool(test(await self.words(child, who)))

        await eventually_async(there, what=what, within=WITHIN)
        return await self.words(child, who)


@pytest.fixture
async def both(infra: Endpoints) -> AsyncIterator[Both]:
    apps = {
        "forum": lambda common, db: forum_app(
            ForumSettings(**common, mongo_db=db), audit_sink=MemoryAuditSink()
        ),
        "analytics": lambda common, db: analytics_app(
            AnalyticsSettings(**common, mongo_db=db), audit_sink=MemoryAuditSink()
        ),
    }
    async with apps_on_a_run(infra, apps, jwks=IDS.jwks_json()) as run:
        analytics_db = run.mongo[run.databases["analytics"]]
        yield Both(run.clients["forum"], run.clients["analytics"], run.publisher, run.topics, analytics_db)


async def _open(both: Both) -> str:
    child = new_nhs_number()
    events = [
        *account_opened(child, lead_id=LEAD, family_id=PARENT),
        *member_joined(child, TEACHER, seq=3),
        *member_joined(child, NURSE, seq=5, sensitive=True, agency="health"),
    ]
    for event in events:
        await publish_event(both.broker, both.topics.accounts_events, event)

    async def known() -> bool:  # both keep their own access model from accounts.events
        forum = await both.forum.get(f"/children/{child}/forum", headers=both.headers(NURSE))
        cloud = await both.analytics.get(f"/children/{child}/keyword-cloud", headers=both.headers(NURSE))
        return forum.status_code == 200 and cloud.status_code == 200

    await eventually_async(known, what="the forum and analytics learning the child's team", within=30.0)
    return child


def _thread(audience: str, body: str) -> dict[str, Any]:
    first = {"body": body, "tag": "worry", "kind": "concern"}
    return {"title": "t", "audience": audience, "first_post": first}


DENTAL = "Missed the dental appointment again; the dental clinic wrote to the school nurse."
HOMEWORK = "Homework club after school is going well and attendance improved."


async def test_an_edit_replaces_a_posts_words_and_a_redaction_takes_them_out(both: Both) -> None:
    child = await _open(both)
    thread = await both.call("POST", f"/children/{child}/forum/threads", _thread("family", DENTAL))
    post = thread["posts"][0]["post_id"]
    await both.until_words(child, lambda w: "dental appointment" in w, "the post's words in the cloud")

    await both.call("PUT", f"/children/{child}/forum/posts/{post}", {"body": HOMEWORK})
    edited = await both.until_words(
        child, lambda w: any("homework" in t for t in w), "the edit's words in the cloud"
    )
    assert not any("dental" in t for t in edited), edited
    found = await both.get(f"/children/{child}/keyword-cloud/entries", PARENT, term="homework club")
    assert [(e["kind"], e["post_id"]) for e in found["entries"]] == [("post", post)]

    await both.call("POST", f"/children/{child}/forum/posts/{post}/redact", {"reason": "names a nurse"})
    await both.until_words(child, lambda w: not w, "the redacted post's words out of the cloud")
    assert await both.words(child, PARENT) == set()
    assert (await both.get(f"/children/{child}/keyword-cloud"))["documents"] == 0


async def test_a_practitioner_only_post_never_reaches_the_familys_cloud_and_no_one_is_named(
    both: Both,
) -> None:
    child = await _open(both)
    base = f"/children/{child}/forum/threads"
    named = "Test Child told Test parent that Priya Sharma helps with homework club and reading practice."
    await both.call("POST", base, _thread("family", named), who=TEACHER)
    secret = "Police intelligence about the partner's violent history; strategy discussion needed."
    await both.call("POST", base, _thread("practitioners", secret))

    team = await both.until_words(
        child, lambda w: any("intelligence" in t or "police" in t for t in w) and len(w) > 3, "both posts"
    )
    family = await both.words(child, PARENT)
    assert family and not any(
        w in t for t in family for w in ("police", "intelligence", "partner", "violent")
    )
    names = {"test", "child", "parent", "priya", "sharma", "lead"}
    for terms in (team, family):
        assert not names & {word for t in terms for word in t.split()}, terms


async def test_the_same_forum_event_delivered_twice_changes_nothing(both: Both) -> None:
    child = await _open(both)
    post = post_added(child, DENTAL, by=participant(LEAD))
    for _ in range(2):
        await publish_event(both.broker, both.topics.forum_events, post)
    await both.until_words(child, lambda w: "dental appointment" in w, "the post in the cloud")
    stored = [d async for d in both.db["keyword_documents"].find({"child_id": child})]
    cloud = await both.get(f"/children/{child}/keyword-cloud")

    await publish_event(both.broker, both.topics.forum_events, post)  # once more, then a marker behind it
    marker = post_added(child, HOMEWORK, by=participant(LEAD))
    await publish_event(both.broker, both.topics.forum_events, marker)
    await both.until_words(child, lambda w: any("homework" in t for t in w), "the marker in the cloud")

    again = [d async for d in both.db["keyword_documents"].find({"child_id": child})]
    assert [d for d in again if d["post_id"] == post.data.post_id] == stored  # type: ignore[attr-defined]
    after = await both.get(f"/children/{child}/keyword-cloud")
    assert after["documents"] == cloud["documents"] + 1
    assert {t["term"]: t["documents"] for t in after["terms"]}["dental appointment"] == 1


async def test_scales_are_kept_per_person_and_the_family_sees_what_was_shared_with_it(both: Both) -> None:
    child = await _open(both)
    base = f"/children/{child}/forum/threads"
    shared = (await both.call("POST", base, _thread("family", "How safe is home now?")))["thread_id"]
    team = (await both.call("POST", base, _thread("practitioners", "Our own view.")))["thread_id"]
    for who, thread, score in (
        (LEAD, shared, 4),
        (PARENT, shared, 7),
        (LEAD, shared, 5),
        (TEACHER, team, 2),
        (NURSE, shared, 6),
    ):
        await both.call("POST", f"{base}/{thread}/scales", {"score": score}, who=who)

    async def lines(who: str) -> list[tuple[str, str, list[int]]]:
        found = await both.get(f"/children/{child}/safety-scales", who)
        return [(ln["person_id"], ln["name"], [p["score"] for p in ln["points"]]) for ln in found["lines"]]

    async def all_five() -> bool:
        return sum(len(s) for _, _, s in await lines(LEAD)) == 5

    await eventually_async(all_five, what="the five scales in analytics", within=30.0)
    assert await lines(LEAD) == [
        (PARENT, "Test parent-1", [7]),
        (LEAD, "Test lead-1", [4, 5]),
        (TEACHER, "Test priya-sharma", [2]),
        (NURSE, "Test nurse-1", [6]),  # the lead may know the confidential service
    ]
    hidden = ("confidential", f"A practitioner from {HIDDEN_PROVIDER}", [6])
    assert await lines(PARENT) == [(PARENT, "Test parent-1", [7]), (LEAD, "Test lead-1", [4, 5]), hidden]
    assert (await lines(TEACHER))[-1] == hidden  # an ordinary member may not know it either
    svg = await both.analytics.get(f"/children/{child}/safety-scales.svg", headers=both.headers(PARENT))
    assert svg.status_code == 200 and "nurse-1" not in svg.text and "Test parent-1" in svg.text
