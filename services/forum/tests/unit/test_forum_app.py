"""The forum through its composition root, with no server: `create_app` with an in-memory store, access
snapshots and audit sink; account events driven by FastStream's in-memory broker, routes over ASGI."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest
from forum_harness import PARENT, STRANGER, TEACHER, TOPICS, Forum, running_forum

from shared.contracts.accounts import Actor, MemberLeft, account_event
from shared.contracts.forum import MEMBER_MENTIONED, POST_ADDED, THREAD_STARTED
from shared.kafka.broker import publish_event
from testsupport.offline import eventually, running_in_background


@pytest.fixture
async def forum() -> AsyncIterator[Forum]:
    async with running_forum() as running:
        yield running


async def test_a_practitioner_starts_a_thread_and_the_post_shows_its_audience(forum: Forum) -> None:
    child = await forum.open_account()

    thread = await forum.thread(child, audience="practitioners", body="**Bruise** on the arm.")

    [post] = thread["posts"]
    assert post["audience"] == "practitioners" and post["tag"] == "worry" and post["kind"] == "concern"
    assert post["html"] == "<p><strong>Bruise</strong> on the arm.</p>\n"
    assert post["family_voice"] is False


async def test_the_family_sees_and_posts_only_in_shared_threads(forum: Forum) -> None:
    child = await forum.open_account()
    private = await forum.thread(child, audience="practitioners")
    shared = await forum.thread(child, audience="family", tag="working_well", kind="progress")

    board = await forum.board(child, who=PARENT)
    assert [t["thread_id"] for t in board["threads"]] == [shared["thread_id"]]
    read = await forum.call("GET", f"/children/{child}/forum/threads/{private['thread_id']}", who=PARENT)
    assert read.status_code == 403 and "practitioners only" in read.json()["detail"]
    post = {"body": "We are trying hard.", "tag": "working_well", "kind": "progress"}
    refused = await forum.call(
        "POST", f"/children/{child}/forum/threads/{private['thread_id']}/posts", who=PARENT, json=post
    )
    assert refused.status_code == 403
    allowed = await forum.call(
        "POST", f"/children/{child}/forum/threads/{shared['thread_id']}/posts", who=PARENT, json=post
    )
    assert allowed.status_code == 201 and allowed.json()["family_voice"] is True
    refusals = [e.data for e in forum.audit.events if not e.data.allowed]
    assert [r.action for r in refusals] == ["read_forum", "post_forum"]
    assert all("practitioners only" in r.reason for r in refusals)


async def test_a_family_member_cannot_start_a_practitioner_only_thread(forum: Forum) -> None:
    child = await forum.open_account()
    body = {
        "title": "Mine",
        "audience": "practitioners",
        "first_post": {"body": "x", "tag": "worry", "kind": "concern"},
    }
    answer = await forum.call("POST", f"/children/{child}/forum/threads", who=PARENT, json=body)
    assert answer.status_code == 403


async def test_someone_outside_the_team_reads_nothing_and_is_audited(forum: Forum) -> None:
    child = await forum.open_account()
    await forum.thread(child, audience="family")

    answer = await forum.call("GET", f"/children/{child}/forum", who=STRANGER)

    assert answer.status_code == 403
    [refusal] = [e.data for e in forum.audit.events if e.data.actor_id == STRANGER]
    assert refusal.action == "read_forum" and not refusal.allowed


async def test_a_member_who_left_the_team_loses_access(forum: Forum) -> None:
    child = await forum.open_account(teacher=True)
    assert (await forum.call("GET", f"/children/{child}/forum", who=TEACHER)).status_code == 200
    actor = Actor(person_id=TEACHER, name="Test teacher", kind="practitioner")
    left = MemberLeft(child_id=child, seq=5, actor=actor, at=datetime.now(UTC), person_id=TEACHER)
    await publish_event(forum.broker, TOPICS.accounts_events, account_event(left))

    assert (await forum.call("GET", f"/children/{child}/forum", who=TEACHER)).status_code == 403


async def test_every_change_is_an_event_on_forum_events_keyed_by_child(forum: Forum) -> None:
    child = await forum.open_account(teacher=True)
    async with running_in_background(forum.runtime, "forum outbox"):
        await forum.thread(child, audience="practitioners", mentions=[TEACHER])
        await eventually(lambda: len(forum.sent) == 3, what="the thread's three events")
    types = [s.json()["type"] for s in forum.sent]
    assert types == [THREAD_STARTED, POST_ADDED, MEMBER_MENTIONED]
    assert {s.json()["subject"] for s in forum.sent} == {child}
    assert forum.sent[2].json()["data"]["person_id"] == TEACHER


async def test_a_mention_of_someone_without_access_is_refused_with_a_reason(forum: Forum) -> None:
    child = await forum.open_account()
    first = {"body": "x", "tag": "worry", "kind": "concern", "mentions": [STRANGER]}
    body = {"title": "t", "audience": "practitioners", "first_post": first}
    answer = await forum.call("POST", f"/children/{child}/forum/threads", json=body)
    assert answer.status_code == 422
    assert "not in this child's team" in answer.json()["detail"]
    first["mentions"] = [PARENT]
    answer = await forum.call("POST", f"/children/{child}/forum/threads", json=body)
    assert answer.status_code == 422 and "practitioners only" in answer.json()["detail"]
    assert forum.store.docs == {}


async def test_script_and_html_come_back_neutralised(forum: Forum) -> None:
    child = await forum.open_account()
    payload = (
        "<script>alert(1)</script> <img src=x onerror=alert(2)> [click](javascript:alert(3)) "
        '<a href="https://x.example" onclick="y()">ok</a> [fine](https://council.example)'
    )

    [post] = (await forum.thread(child, audience="family", body=payload))["posts"]

    tags = _tags(post["html"])
    assert {t for t, _ in tags} <= {"p", "a"}
    assert all(
        not k.startswith("on") and "javascript" not in (v or "") for _, attrs in tags for k, v in attrs
    )
    assert "&lt;script&gt;" in post["html"]  # shown as the text it was, not run


def _tags(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    found: list[tuple[str, list[tuple[str, str | None]]]] = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found.append((tag, attrs))

    Collect().feed(html)
    return found


async def test_control_characters_and_oversized_text_are_refused_naming_the_field(forum: Forum) -> None:
    child = await forum.open_account()
    first = {"body": "bad\x00text", "tag": "worry", "kind": "concern"}
    body = {"title": "t", "audience": "family", "first_post": first}
    answer = await forum.call("POST", f"/children/{child}/forum/threads", json=body)
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"][-2:] == ["first_post", "body"]
    assert "U+0000" in answer.json()["detail"][0]["msg"]
    first["body"] = "x" * 10_001
    answer = await forum.call("POST", f"/children/{child}/forum/threads", json=body)
    assert answer.status_code == 422 and answer.json()["detail"][0]["loc"][-1] == "body"
