"""The forum's section of the child's page and its forms, against fake backends (see test_web_pages)."""

# The fixtures `client` and `backends` are test_web_pages' own, imported so that both files fake the same
# backends; pytest finds them by name, which ruff reads as redefinitions.
# ruff: noqa: F811

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from test_web_pages import CHILD, Backends, backends, client, csrf_of, header, sign_in_as  # noqa: F401

PARENT = {"person_id": "f-1", "name": "Jo Parent", "kind": "family", "role": "parent"}
LEAD = {"person_id": "p-sam", "name": "Sam Okafor", "kind": "practitioner", "role": "social worker"}


def post(
    post_id: str, tag: str, html: str, *, author: dict[str, Any] = LEAD, **changes: Any
) -> dict[str, Any]:
    return {
        "post_id": post_id,
        "thread_id": "t-1",
        "audience": "family",
        "reply_to": None,
        "tag": tag,
        "kind": "observation",
        "author": author,
        "family_voice": author["kind"] == "family",
        "body": "",
        "html": html,
        "created_at": "2026-03-02T09:15:00Z",
        "version": 1,
        **changes,
    }


def board(**changes: Any) -> dict[str, Any]:
    posts = [
        post("p1", "worry", "<p>Sam was hurt.</p>", pin="danger_statement"),
        post("p2", "working_well", "<p>Gran <strong>helps</strong>.</p>", author=PARENT),
        post("p3", "next_step", "<p>Visit on Friday.</p>"),
    ]
    thread = {
        "thread_id": "t-1",
        "title": "<b>Home</b> & school",
        "audience": "family",
        "started_by": LEAD,
        "started_at": "2026-03-02T09:15:00Z",
        "posts": posts,
    }
    scale = {
        "scale_id": "s1",
        "thread_id": "t-1",
        "audience": "family",
        "person": PARENT,
        "score": 6,
        "comment": "Better",
        "at": "2026-03-02T09:15:00Z",
    }
    base = {
        "child_id": CHILD,
        "family_view": False,
        "can_moderate": True,
        "threads": [thread],
        "pinned": [posts[0]],
        "columns": {"worry": [posts[0]], "working_well": [posts[1]], "next_step": [posts[2]]},
        "scales": [scale],
        "scale_history": [{**scale, "score": 3, "scale_id": "s0"}, scale],
    }
    return {**base, **changes}


def test_the_child_page_shows_the_three_columns_pins_and_scales(
    client: TestClient, backends: Backends
) -> None:
    backends.on("GET", "forum", f"/children/{CHILD}/forum", board())
    sign_in_as(client, "p-sam")

    page = client.get(f"/children/{CHILD}").text

    for heading in ("What are we worried about?", "What is working well?", "What needs to happen?"):
        assert heading in page
    assert "Gran <strong>helps</strong>." in page  # the forum's cleaned HTML
    assert "&lt;b&gt;Home&lt;/b&gt; &amp; school" in page  # a title is text
    assert "Danger statement" in page and "In the family's own words" in page
    assert 'value="6"' in page and "(before: 3)" in page
    assert "Check wording" in page and "Redact" in page


def test_a_shielded_childs_withheld_practitioners_show_as_withheld_by_role_and_keep_their_scales_apart(
    client: TestClient, backends: Backends
) -> None:
    first = {
        "person_id": "withheld-1",
        "name": "Name withheld",
        "kind": "practitioner",
        "role": "social worker",
    }
    second = {**first, "person_id": "withheld-2", "role": "teacher"}
    posts = [
        post("p1", "worry", "<p>Settling in.</p>", author=first),
        post("p2", "next_step", "<p>Visit on Friday.</p>", author=second),
    ]
    thread = {
        "thread_id": "t-1",
        "title": "School",
        "audience": "family",
        "started_by": first,
        "started_at": "2026-03-02T09:15:00Z",
        "posts": posts,
    }

    def scale(scale_id: str, person: dict[str, Any], score: int) -> dict[str, Any]:
        return {
            "scale_id": scale_id,
            "thread_id": "t-1",
            "audience": "family",
            "person": person,
            "score": score,
            "comment": "",
            "at": "2026-03-02T09:15:00Z",
        }

    shielded = board(
        family_view=True,
        can_moderate=False,
        threads=[thread],
        pinned=[],
        columns={"worry": [posts[0]], "working_well": [], "next_step": [posts[1]]},
        scales=[scale("s2", first, 5), scale("s3", second, 8)],
        scale_history=[scale("s1", first, 2), scale("s2", first, 5), scale("s3", second, 8)],
    )
    backends.on("GET", "accounts", f"/children/{CHILD}", header(view="family", relationship="family"))
    backends.on("GET", "forum", f"/children/{CHILD}/forum", shielded)
    sign_in_as(client, "f-1", kind="family")

    answer = client.get(f"/children/{CHILD}")

    assert answer.status_code == 200
    page = answer.text
    assert "<strong>Name withheld</strong>, social worker" in page
    assert "<strong>Name withheld</strong>, teacher" in page
    assert 'value="5"' in page and "(before: 2)" in page and 'value="8"' in page
    assert page.count("(before:") == 1  # the teacher's one scale is not taken for the social worker's


def test_the_family_form_has_no_audience_choice_and_no_moderation(
    client: TestClient, backends: Backends
) -> None:
    backends.on("GET", "accounts", f"/children/{CHILD}", header(view="family", relationship="family"))
    backends.on("GET", "forum", f"/children/{CHILD}/forum", board(family_view=True, can_moderate=False))
    sign_in_as(client, "f-1", kind="family")

    page = client.get(f"/children/{CHILD}").text

    assert 'name="audience" value="family"' in page and "Practitioners only</option>" not in page
    assert "Redact" not in page and "Check wording" not in page


def test_the_forum_being_away_leaves_the_rest_of_the_page(client: TestClient, backends: Backends) -> None:
    backends.on("GET", "forum", f"/children/{CHILD}/forum", {"detail": "down"}, status=503)
    sign_in_as(client, "p-sam")
    page = client.get(f"/children/{CHILD}")
    assert page.status_code == 200 and "The forum cannot be shown right now" in page.text


def test_checking_the_wording_shows_the_reading_age_and_jargon_and_keeps_the_draft(
    client: TestClient, backends: Backends
) -> None:
    report = {
        "reading_age": 15.2,
        "grade": 10.2,
        "jargon": ["s47"],
        "plain": False,
        "advice": ["Say it simply."],
    }
    backends.on("POST", "forum", f"/children/{CHILD}/forum/wording", report)
    sign_in_as(client, "p-sam")
    form = {"csrf_token": csrf_of(client), "body": "A s47 <enquiry>", "tag": "worry", "kind": "concern"}

    page = client.post(f"/children/{CHILD}/forum/threads/t-1/posts", data={**form, "action": "check"})

    assert page.status_code == 200 and "15.2" in page.text and "s47" in page.text
    assert "A s47 &lt;enquiry&gt;</textarea>" in page.text
    assert not [r for r in backends.seen if r.url.path.endswith("/posts")]


def test_a_post_goes_to_the_forum_with_the_persons_token(client: TestClient, backends: Backends) -> None:
    backends.on("POST", "forum", f"/children/{CHILD}/forum/threads/t-1/posts", {}, status=201)
    token = sign_in_as(client, "p-sam")
    form = {"csrf_token": csrf_of(client), "body": "Seen at school.", "tag": "worry", "kind": "observation"}

    answer = client.post(f"/children/{CHILD}/forum/threads/t-1/posts", data={**form, "mention": "p-x"})

    assert answer.status_code == 303 and answer.headers["location"].endswith("#forum")
    [sent] = [r for r in backends.seen if r.url.path.endswith("/posts")]
    assert sent.headers["authorization"] == f"Bearer {token}"
    assert (
        sent.read()
        == b'{"body":"Seen at school.","tag":"worry","kind":"observation","reply_to":null,"mentions":["p-x"]}'
    )


def test_a_refusal_from_the_forum_is_shown_in_its_words(client: TestClient, backends: Backends) -> None:
    detail = {"detail": "this thread is for the child's practitioners only"}
    backends.on("POST", "forum", f"/children/{CHILD}/forum/threads/t-9/posts", detail, status=403)
    sign_in_as(client, "f-1", kind="family")
    form = {"csrf_token": csrf_of(client), "body": "Hi", "tag": "worry", "kind": "observation"}
    answer = client.post(f"/children/{CHILD}/forum/threads/t-9/posts", data=form)
    assert answer.status_code == 403 and "practitioners only" in answer.text
