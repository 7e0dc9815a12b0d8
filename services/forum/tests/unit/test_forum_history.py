"""History is kept, the family's words are theirs, the lead pins and redacts, and scales are charted: the
forum through `create_app` with in-memory fakes (see test_forum_app for the fixture's parts)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from forum_harness import LEAD, PARENT, TEACHER, Forum, running_forum

from forum.wording import check_wording


@pytest.fixture
async def forum() -> AsyncIterator[Forum]:
    async with running_forum() as running:
        yield running


async def _post(
    forum: Forum, child: str, thread: dict[str, Any], *, who: str, **fields: Any
) -> dict[str, Any]:
    body = {"body": "Words.", "tag": "worry", "kind": "concern", **fields}
    answer = await forum.call(
        "POST", f"/children/{child}/forum/threads/{thread['thread_id']}/posts", who=who, json=body
    )
    assert answer.status_code == 201, answer.text
    post: dict[str, Any] = answer.json()
    return post


async def test_an_edit_keeps_the_earlier_versions(forum: Forum) -> None:
    child = await forum.open_account()
    [post] = (await forum.thread(child, audience="family", body="Missed school on Monday."))["posts"]
    path = f"/children/{child}/forum/posts/{post['post_id']}"

    edited = await forum.call("PUT", path, json={"body": "Missed school on Monday and Tuesday."})

    assert edited.status_code == 200 and edited.json()["version"] == 2 and edited.json()["edited_at"]
    versions = (await forum.call("GET", f"{path}/versions", who=PARENT)).json()
    assert [v["body"] for v in versions] == [
        "Missed school on Monday.",
        "Missed school on Monday and Tuesday.",
    ]


async def test_the_familys_own_words_are_never_edited_by_anyone_else(forum: Forum) -> None:
    child = await forum.open_account()
    thread = await forum.thread(child, audience="family")
    mine = await _post(forum, child, thread, who=PARENT, body="I feel nobody listens.", tag="worry")
    assert mine["family_voice"] is True

    answer = await forum.call(
        "PUT", f"/children/{child}/forum/posts/{mine['post_id']}", json={"body": "Fine."}
    )

    assert answer.status_code == 422 and "family's own words" in answer.json()["detail"]
    versions = (await forum.call("GET", f"/children/{child}/forum/posts/{mine['post_id']}/versions")).json()
    assert [v["body"] for v in versions] == ["I feel nobody listens."]


async def test_the_lead_redacts_with_a_reason_and_the_words_leave_the_store(forum: Forum) -> None:
    child = await forum.open_account()
    thread = await forum.thread(child, audience="family")
    post = await _post(forum, child, thread, who=PARENT, body="We moved to 12 Secret Road.")
    path = f"/children/{child}/forum/posts/{post['post_id']}/redact"

    refused = await forum.call("POST", path, who=PARENT, json={"reason": "not mine to hide"})
    done = await forum.call("POST", path, json={"reason": "names the refuge's address"})

    assert refused.status_code == 403
    assert done.status_code == 200
    assert done.json()["redacted"] is True and done.json()["body"] == "" and done.json()["html"] == ""
    assert done.json()["redaction_reason"] == "names the refuge's address"
    assert "Secret Road" not in forum.store.words()
    board = await forum.board(child, who=PARENT)
    assert "Secret Road" not in repr(board)
    [audit] = [e.data for e in forum.audit.events if e.data.actor_id == LEAD and e.data.detail == "redact"]
    assert audit.allowed and audit.purpose == "names the refuge's address"


async def test_the_lead_pins_danger_statements_and_safety_goals_to_the_top(forum: Forum) -> None:
    child = await forum.open_account(teacher=True)
    thread = await forum.thread(child, audience="family", body="Sam was hit by dad.")
    danger = thread["posts"][0]
    goal = await _post(forum, child, thread, who=LEAD, body="Sam is safe at home.", tag="next_step")

    by_member = await forum.call(
        "PUT",
        f"/children/{child}/forum/posts/{goal['post_id']}/pin",
        who=TEACHER,
        json={"pin": "safety_goal"},
    )
    for post, pin in ((goal, "safety_goal"), (danger, "danger_statement")):
        answer = await forum.call(
            "PUT", f"/children/{child}/forum/posts/{post['post_id']}/pin", json={"pin": pin}
        )
        assert answer.status_code == 200 and answer.json()["pin"] == pin

    assert by_member.status_code == 403
    board = await forum.board(child, who=PARENT)
    assert [(p["pin"], p["post_id"]) for p in board["pinned"]] == [
        ("danger_statement", danger["post_id"]),
        ("safety_goal", goal["post_id"]),
    ]
    assert board["can_moderate"] is False and (await forum.board(child))["can_moderate"] is True


async def test_the_three_columns_come_from_the_tagged_posts(forum: Forum) -> None:
    child = await forum.open_account()
    thread = await forum.thread(child, audience="family", body="Worried.", tag="worry")
    await _post(forum, child, thread, who=PARENT, body="Gran helps.", tag="working_well", kind="progress")
    await _post(forum, child, thread, who=LEAD, body="Visit Friday.", tag="next_step", kind="observation")
    hidden = await forum.thread(child, audience="practitioners", body="Police report.", tag="worry")

    team, family = await forum.board(child), await forum.board(child, who=PARENT)

    def words(board: dict[str, Any], column: str) -> list[str]:
        return [p["body"] for p in board["columns"][column]]

    assert words(team, "worry") == ["Police report.", "Worried."]
    assert words(family, "worry") == ["Worried."]
    assert words(family, "working_well") == ["Gran helps."] and words(family, "next_step") == [
        "Visit Friday."
    ]
    assert hidden["posts"][0]["body"] not in repr(family)


async def test_every_participant_records_a_scale_and_each_history_is_kept(forum: Forum) -> None:
    child = await forum.open_account()
    thread = await forum.thread(child, audience="family")
    path = f"/children/{child}/forum/threads/{thread['thread_id']}/scales"
    for who, score in ((LEAD, 3), (PARENT, 7), (LEAD, 5)):
        answer = await forum.call("POST", path, who=who, json={"score": score, "comment": f"{who} says"})
        assert answer.status_code == 201, answer.text
    assert (await forum.call("POST", path, json={"score": 11})).status_code == 422

    board = await forum.board(child, who=PARENT)

    assert {s["person"]["person_id"]: s["score"] for s in board["scales"]} == {PARENT: 7, LEAD: 5}
    assert [(s["person"]["person_id"], s["score"]) for s in board["scale_history"]] == [
        (LEAD, 3),
        (PARENT, 7),
        (LEAD, 5),
    ]


async def test_a_reply_is_kept_with_the_post_it_answers(forum: Forum) -> None:
    child = await forum.open_account()
    thread = await forum.thread(child, audience="family")
    first = thread["posts"][0]

    reply = await _post(forum, child, thread, who=PARENT, reply_to=first["post_id"], tag="working_well")

    assert reply["reply_to"] == first["post_id"]
    missing = await forum.call(
        "POST",
        f"/children/{child}/forum/threads/{thread['thread_id']}/posts",
        json={"body": "x", "tag": "worry", "kind": "concern", "reply_to": "nope"},
    )
    assert missing.status_code == 404


async def test_the_plain_language_check_flags_jargon_and_a_high_reading_age() -> None:
    hard = check_wording(
        "Following the strategy discussion, a s47 enquiry regarding potential neglect will be "
        "commenced, and consideration given to an ICPC under the CIN framework."
    )
    easy = check_wording("We will visit on Monday. We want to hear how Sam is.")

    assert {w.lower() for w in hard.jargon} >= {"s47", "neglect", "strategy discussion", "icpc", "cin"}
    assert hard.reading_age > 12 and not hard.plain and hard.advice
    assert easy.plain and easy.jargon == [] and easy.reading_age <= 12


async def test_the_wording_check_is_a_route_for_those_who_may_post(forum: Forum) -> None:
    child = await forum.open_account()
    path = f"/children/{child}/forum/wording"
    answer = await forum.call("POST", path, json={"text": "This is a LAC review."})
    assert answer.status_code == 200 and answer.json()["jargon"] == ["LAC"]
    assert (await forum.call("POST", path, who="stranger-1", json={"text": "x"})).status_code == 403


async def test_a_sensitive_services_practitioner_is_not_named_to_those_who_may_not_see_it(
    forum: Forum,
) -> None:
    child = await forum.open_account(teacher=True, confidential=True)
    thread = await forum.thread(child, audience="family", who=TEACHER, body="Seen at the clinic.")
    path = f"/children/{child}/forum/threads/{thread['thread_id']}/scales"
    assert (await forum.call("POST", path, who=TEACHER, json={"score": 4})).status_code == 201

    family, lead = await forum.board(child, who=PARENT), await forum.board(child)

    assert TEACHER not in repr(family) and f"Test {TEACHER}" not in repr(family)
    assert (
        family["threads"][0]["posts"][0]["author"]["name"]
        == "A practitioner from a confidential health service"
    )
    assert family["scales"][0]["person"]["person_id"] == "confidential"
    assert lead["threads"][0]["posts"][0]["author"]["person_id"] == TEACHER  # the lead sees who


async def test_a_mention_of_a_sensitive_services_practitioner_names_them_only_to_those_who_may_see_it(
    forum: Forum,
) -> None:
    child = await forum.open_account(teacher=True, confidential=True)
    thread = await forum.thread(child, audience="family", body="We will visit on Monday.")
    await _post(forum, child, thread, who=LEAD, body="Thanks for the update.", mentions=[TEACHER, PARENT])

    family, lead = await forum.board(child, who=PARENT), await forum.board(child)

    assert TEACHER not in repr(family) and f"Test {TEACHER}" not in repr(family)
    hidden, parent = family["threads"][0]["posts"][1]["mentions"]
    assert hidden == {
        "person_id": "confidential",
        "name": "A practitioner from a confidential health service",
        "confidential": True,
    }
    assert parent["person_id"] == PARENT  # the family's own names stay
    assert [m["person_id"] for m in lead["threads"][0]["posts"][1]["mentions"]] == [TEACHER, PARENT]


async def test_a_shielded_childs_practitioners_are_named_only_to_those_who_may_see_where_the_child_is(
    forum: Forum,
) -> None:
    child = await forum.open_account(teacher=True, shielded=True)
    thread = await forum.thread(child, audience="family", body="We will visit on Monday.")
    tid = thread["thread_id"]
    await _post(forum, child, thread, who=TEACHER, body="Settled in class.", mentions=[LEAD, PARENT])
    await _post(forum, child, thread, who=PARENT, body="Thank you all.", tag="working_well")
    for who, score in ((LEAD, 4), (TEACHER, 6), (PARENT, 7), (LEAD, 5)):
        path = f"/children/{child}/forum/threads/{tid}/scales"
        assert (await forum.call("POST", path, who=who, json={"score": score})).status_code == 201

    paths = {
        "board": "/forum",
        "thread": f"/forum/threads/{tid}",
        "search": "/forum/search?q=class",
        "export": "/forum/export",
    }

    async def read(who: str) -> dict[str, Any]:
        found = {}
        for name, path in paths.items():
            answer = await forum.call("GET", f"/children/{child}{path}", who=who)
            assert answer.status_code == 200, f"{who} {name}: {answer.text}"
            found[name] = answer.json()
        return found

    parent, teacher, lead = await read(PARENT), await read(TEACHER), await read(LEAD)

    for name, answer in parent.items():  # neither practitioner, by name or by id, on any path
        assert not {LEAD, TEACHER} & _words(answer), (name, answer)
    for name, answer in teacher.items():  # the teacher's colleague is withheld, the teacher is not
        assert LEAD not in _words(answer), (name, answer)
    posts = parent["thread"]["posts"]
    assert [(p["author"]["name"], p["author"]["role"]) for p in posts] == [
        ("Name withheld", "Social worker"),
        ("Name withheld", "Social worker"),
        (f"Test {PARENT}", "Social worker"),  # the test's tokens give everyone that role
    ]
    assert posts[0]["author"]["person_id"] != posts[1]["author"]["person_id"]  # two people, still apart
    assert parent["thread"]["started_by"] == posts[0]["author"]
    assert [m["name"] for m in posts[1]["mentions"]] == ["Name withheld", "Test parent"]  # as linked
    board = parent["board"]
    assert [(s["person"]["name"], s["score"]) for s in board["scale_history"]] == [
        ("Name withheld", 4),
        ("Name withheld", 6),
        (f"Test {PARENT}", 7),
        ("Name withheld", 5),
    ]
    assert len({s["person"]["person_id"] for s in board["scales"]}) == 3  # one latest scale each
    assert {s["person"]["person_id"] for s in board["scale_history"]} == {
        s["person"]["person_id"] for s in board["scales"]
    }
    assert parent["export"]["threads"][0]["posts"][1]["author"] == posts[1]["author"]
    mine = teacher["thread"]["posts"][1]
    assert mine["author"]["name"] == f"Test {TEACHER}" and mine["mentions"][0]["name"] == "Name withheld"
    assert [p["author"]["person_id"] for p in lead["thread"]["posts"]] == [LEAD, TEACHER, PARENT]
    assert [m["person_id"] for m in lead["board"]["threads"][0]["posts"][1]["mentions"]] == [LEAD, PARENT]


def _words(answer: Any) -> set[str]:
    """Every person id and name an answer holds: in "Test lead-1", both "Test lead-1" and "lead-1"."""
    text = repr(answer)
    return {who for who in (LEAD, TEACHER, PARENT) if who in text}
