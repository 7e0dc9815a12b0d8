"""The forum's access rules and events through its real app, against the real broker and MongoDB-wire server:
account events from `accounts.events` decide who reads and writes (a parent never in a practitioner-only
thread, a non-member nowhere, an ex-member no longer), and every change reaches `forum.events`, keyed by child.
The Mongo store and the unit tests' fake are held to the same contract."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from faststream.kafka import KafkaBroker
from forum_fakes import FakeForumStore

from devstack import service_users
from devstack.infra import Endpoints
from forum.app import create_app
from forum.domain import EditConflict
from forum.settings import ForumSettings
from forum.store import ForumStore, MongoForumStore, change_document
from shared import mongo
from shared.audit import MemoryAuditSink
from shared.contracts.accounts import Actor, JoinApproved, JoinRequested, MemberLeft, account_event
from shared.contracts.forum import MEMBER_MENTIONED, POST_ADDED, THREAD_STARTED, Participant, PostAdded
from shared.events import Envelope, make_event
from shared.kafka.broker import publish_event
from shared.policy import PrincipalKind
from shared.topics import Topics, ensure_topics
from testsupport.events import account_opened, new_nhs_number, person
from testsupport.identities import Identities
from testsupport.offline import eventually_async

pytestmark = pytest.mark.integration
IDS = Identities()
LEAD, PARENT, TEACHER, STRANGER = "lead-1", "parent-1", "teacher-1", "stranger-1"


@dataclass
class Running:
    http: httpx.AsyncClient
    broker: KafkaBroker
    topics: Topics
    infra: Endpoints

    async def call(self, method: str, path: str, *, who: str = LEAD, json: Any = None) -> httpx.Response:
        kind: PrincipalKind = "family" if who == PARENT else "practitioner"
        return await self.http.request(method, path, json=json, headers=IDS.headers(who, kind=kind))

    async def open_account(self) -> str:
        child = new_nhs_number()
        actor = Actor(person_id=LEAD, name="Test lead", kind="practitioner")
        now = datetime.now(UTC)
        asked = JoinRequested(
            child_id=child, seq=3, actor=actor, at=now, request_id="r", person=person(TEACHER), reason="DSL"
        )
        approved = JoinApproved(
            child_id=child, seq=4, actor=actor, at=now, request_id="r", person=person(TEACHER)
        )
        events = [
            *account_opened(child, lead_id=LEAD, family_id=PARENT),
            account_event(asked),
            account_event(approved),
        ]
        for event in events:
            await publish_event(self.broker, self.topics.accounts_events, event)
        await self.until(child, TEACHER, 200)
        return child

    async def until(self, child: str, who: str, status: int) -> None:
        async def answered() -> bool:
            return (await self.call("GET", f"/children/{child}/forum", who=who)).status_code == status

        await eventually_async(answered, what=f"{who} answered {status} on {child}'s forum")

    async def thread(self, child: str, audience: str, **post: Any) -> dict[str, Any]:
        first = {"body": "Words.", "tag": "worry", "kind": "concern", **post}
        body = {"title": "A thread", "audience": audience, "first_post": first}
        answer = await self.call("POST", f"/children/{child}/forum/threads", json=body)
        assert answer.status_code == 201, answer.text
        thread: dict[str, Any] = answer.json()
        return thread


@pytest.fixture
async def running(infra: Endpoints) -> AsyncIterator[Running]:
    topics = Topics(prefix=f"t{uuid.uuid4().hex[:8]}.")
    await ensure_topics(infra.kafka_bootstrap, topics.all(), credentials=infra.kafka_admin)
    service_users.grant_run(infra.kafka_bootstrap, topics)
    database = f"test_{uuid.uuid4().hex}"
    settings = ForumSettings(
        kafka_bootstrap=infra.kafka_bootstrap,
        mongo_url=infra.mongo_url,
        mongo_db=database,
        topic_prefix=topics.prefix,
        consumer_group_suffix=f"-{uuid.uuid4().hex[:8]}",
        auth_jwks=IDS.jwks_json(),
    )
    app = create_app(settings, audit_sink=MemoryAuditSink())
    publisher = KafkaBroker(infra.kafka_bootstrap, security=infra.kafka_admin.faststream())
    await publisher.start()
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://forum") as http,
        ):
            yield Running(http, publisher, topics, infra)
    finally:
        await publisher.stop()
        client = mongo.connect(infra.mongo_url, app_name="test")
        await client.drop_database(database)
        await client.close()


async def test_a_parent_neither_reads_nor_posts_in_a_practitioner_only_thread(running: Running) -> None:
    child = await running.open_account()
    private = await running.thread(child, "practitioners", body="Police intelligence.")
    shared = await running.thread(child, "family", body="How things are at home.")

    board = (await running.call("GET", f"/children/{child}/forum", who=PARENT)).json()
    read = await running.call("GET", f"/children/{child}/forum/threads/{private['thread_id']}", who=PARENT)
    post = {"body": "Let me in.", "tag": "worry", "kind": "concern"}
    path = f"/children/{child}/forum/threads/{private['thread_id']}/posts"
    posted = await running.call("POST", path, who=PARENT, json=post)

    assert [t["thread_id"] for t in board["threads"]] == [shared["thread_id"]]
    assert "Police intelligence" not in json.dumps(board)
    assert read.status_code == 403 and posted.status_code == 403
    team = (await running.call("GET", f"/children/{child}/forum/threads/{private['thread_id']}")).json()
    assert [p["body"] for p in team["posts"]] == ["Police intelligence."]


async def test_a_non_member_reads_nothing_and_an_ex_member_loses_access(running: Running) -> None:
    child = await running.open_account()
    await running.thread(child, "family")
    assert (await running.call("GET", f"/children/{child}/forum", who=STRANGER)).status_code == 403

    actor = Actor(person_id=TEACHER, name="Test teacher", kind="practitioner")
    left = MemberLeft(child_id=child, seq=5, actor=actor, at=datetime.now(UTC), person_id=TEACHER)
    await publish_event(running.broker, running.topics.accounts_events, account_event(left))

    await running.until(child, TEACHER, 403)
    post = {"body": "Still here?", "tag": "worry", "kind": "concern"}
    board = (await running.call("GET", f"/children/{child}/forum")).json()
    path = f"/children/{child}/forum/threads/{board['threads'][0]['thread_id']}/posts"
    assert (await running.call("POST", path, who=TEACHER, json=post)).status_code == 403


async def test_every_change_reaches_forum_events_and_a_mention_names_the_person(running: Running) -> None:
    child = await running.open_account()
    await running.thread(child, "practitioners", mentions=[TEACHER])

    consumer = AIOKafkaConsumer(
        running.topics.forum_events,
        bootstrap_servers=running.infra.kafka_bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        **running.infra.kafka_admin.aiokafka(),
    )
    await consumer.start()
    seen: list[dict[str, Any]] = []
    try:

        async def three() -> bool:
            batch = await consumer.getmany(timeout_ms=500)
            seen.extend(
                json.loads(r.value) for records in batch.values() for r in records if r.key == child.encode()
            )
            return len(seen) >= 3

        await eventually_async(three, what="the thread's events on forum.events")
    finally:
        await consumer.stop()
    assert [e["type"] for e in seen] == [THREAD_STARTED, POST_ADDED, MEMBER_MENTIONED]
    assert seen[2]["data"]["person_id"] == TEACHER and seen[2]["data"]["name"] == f"Test {TEACHER}"


# --- the store contract: the Mongo store and the fake alike -----------------------------------------------


@pytest.fixture(params=["mongo", "fake"])
async def store(request: pytest.FixtureRequest, infra: Endpoints) -> AsyncIterator[ForumStore]:
    if request.param == "fake":
        yield FakeForumStore()
        return
    client = mongo.connect(infra.mongo_url, app_name="test")
    database = f"test_{uuid.uuid4().hex}"
    real = MongoForumStore(client[database])
    await real.create_indexes()
    try:
        yield real
    finally:
        await client.drop_database(database)
        await client.close()


def _added(child: str, post_id: str, body: str) -> tuple[Envelope[Any], str]:
    by = Participant(person_id=LEAD, name="Lead", kind="practitioner")
    data = PostAdded(
        child_id=child,
        thread_id="t",
        audience="family",
        by=by,
        at=datetime.now(UTC),
        post_id=post_id,
        tag="worry",
        kind="concern",
        body=body,
    )
    return make_event(type=POST_ADDED, source="forum", subject=child, data=data), f"<p>{body}</p>"


async def test_the_store_keeps_changes_in_order_erases_redacted_words_and_refuses_a_taken_id(
    store: ForumStore,
) -> None:
    child = new_nhs_number()
    for i in range(3):
        await store.add(change_document(f"d{i}", "forum.events", [_added(child, f"p{i}", f"words {i}")]))
    with pytest.raises(EditConflict):
        await store.add(change_document("d1", "forum.events", [_added(child, "p9", "again")]))

    assert [c.event.post_id for c in await store.changes(child)] == ["p0", "p1", "p2"]  # type: ignore[attr-defined]
    assert await store.erase_words(child, "p1") == 1
    bodies = [(c.event.body, c.html) for c in await store.changes(child)]  # type: ignore[attr-defined]
    assert bodies == [("words 0", "<p>words 0</p>"), ("(redacted)", ""), ("words 2", "<p>words 2</p>")]

    pending = await store.pending(limit=10)
    assert [len(p.messages) for p in pending] == [1, 0, 1]  # the erased post's event is not sent
    await store.mark_published(pending)
    assert await store.pending(limit=10) == []


async def test_search_and_export_show_the_family_only_shared_threads_and_no_redacted_words(
    running: Running,
) -> None:
    child = await running.open_account()
    await running.thread(child, "practitioners", body="Police visit about the partner.")
    shared = await running.thread(child, "family", body="The partner helps with the school run.")
    gone = await running.thread(child, "family", body="The partner lives at 4 Hidden Lane.")
    redacted = gone["posts"][0]["post_id"]
    edit = f"/children/{child}/forum/posts/{shared['posts'][0]['post_id']}"
    assert (await running.call("PUT", edit, json={"body": "Mum does the school run."})).status_code == 200
    redaction = {"reason": "gives an address the family asked to keep private"}
    answer = await running.call("POST", f"/children/{child}/forum/posts/{redacted}/redact", json=redaction)
    assert answer.status_code == 200, answer.text

    async def found(term: str, who: str) -> list[str]:
        answer = await running.call("GET", f"/children/{child}/forum/search?q={term}", who=who)
        assert answer.status_code == 200, answer.text
        return [p["body"] for p in answer.json()]

    assert await found("PARTNER", LEAD) == ["Police visit about the partner."]
    assert await found("partner", PARENT) == []
    assert await found("school run", PARENT) == ["Mum does the school run."]
    assert await found("Hidden Lane", LEAD) == []

    family = (await running.call("GET", f"/children/{child}/forum/export", who=PARENT)).json()
    team = (await running.call("GET", f"/children/{child}/forum/export", who=LEAD)).json()
    assert family["family_view"] is True and len(family["threads"]) == 2 and len(team["threads"]) == 3
    assert "Police visit" not in json.dumps(family) and "Police visit" in json.dumps(team)
    assert "Hidden Lane" not in json.dumps(team)  # neither the post nor its versions keep the words
    [edited] = [t["posts"][0] for t in family["threads"] if t["thread_id"] == shared["thread_id"]]
    assert [v["body"] for v in edited["versions"]] == [
        "The partner helps with the school run.",
        "Mum does the school run.",
    ]
    stranger = await running.call("GET", f"/children/{child}/forum/export", who=STRANGER)
    assert stranger.status_code == 403


async def test_the_stored_board_keeps_the_newest_fold_and_stays_stale_while_a_change_is_under_way(
    store: ForumStore,
) -> None:
    child = new_nhs_number()
    assert await store.board_views(child) is None
    await store.save_board_views(child, version=0, marks=0, views={"team-named": "empty"})
    first = await store.board_views(child)
    assert first is not None and not first.stale and first.views == {"team-named": "empty"}

    await store.mark_changing(child)  # a writer begins: stale until its own fold is saved
    await store.mark_changing(child)  # and a second one
    begun = await store.board_views(child)
    assert begun is not None and begun.stale and begun.marks == 2
    await store.save_board_views(child, version=2, marks=1, views={"team-named": "two"})  # saw one mark
    await store.save_board_views(child, version=1, marks=2, views={"team-named": "one"})  # an older fold

    last = await store.board_views(child)
    assert last is not None and last.views == {"team-named": "two"} and last.version == 2
    assert not last.stale  # the fold that began after both marks cleared it
