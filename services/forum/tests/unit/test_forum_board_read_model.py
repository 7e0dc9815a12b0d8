"""The stored board: once the forum's own writes have folded it, reading a child's board is one lookup, each
kind of reader still gets their own view of it, and a board that may be behind is folded again by its reader.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from forum_harness import PARENT, TEACHER, Forum, running_forum

from forum import service
from forum.store import view_key


@pytest.fixture
async def forum() -> AsyncIterator[Forum]:
    async with running_forum() as running:
        yield running


async def test_reading_a_board_after_a_change_folds_no_change_log(forum: Forum) -> None:
    child = await forum.open_account()
    await forum.thread(child, audience="family", body="Walked to school together.")
    folds = forum.store.folds

    boards = [await forum.board(child), await forum.board(child, who=PARENT), await forum.board(child)]

    assert forum.store.folds == folds
    assert all(b["threads"][0]["posts"][0]["body"] == "Walked to school together." for b in boards)


async def test_each_reader_gets_the_view_their_access_allows_from_the_stored_board(forum: Forum) -> None:
    child = await forum.open_account(teacher=True, confidential=True)
    await forum.thread(child, audience="practitioners", body="Only for the team.")
    await forum.thread(child, audience="family", who=TEACHER, body="Seen at the clinic.")

    lead, parent, teacher = (
        await forum.board(child),
        await forum.board(child, who=PARENT),
        await forum.board(child, who=TEACHER),
    )

    assert len(lead["threads"]) == 2 and lead["can_moderate"] is True
    assert [t["audience"] for t in parent["threads"]] == ["family"] and parent["can_moderate"] is False
    assert "Only for the team." not in repr(parent) and TEACHER not in repr(parent)
    assert teacher["can_moderate"] is False and len(teacher["threads"]) == 2
    assert lead["threads"][0]["posts"][0]["author"]["person_id"] == TEACHER


async def test_every_change_reaches_the_stored_board(forum: Forum) -> None:
    child = await forum.open_account()
    thread = await forum.thread(child, audience="family", body="First.")
    [post] = thread["posts"]
    path = f"/children/{child}/forum"

    await forum.call("PUT", f"{path}/posts/{post['post_id']}", json={"body": "First, corrected."})
    await forum.call("PUT", f"{path}/posts/{post['post_id']}/pin", json={"pin": "safety_goal"})
    await forum.call("POST", f"{path}/threads/{thread['thread_id']}/scales", json={"score": 6})
    board = await forum.board(child, who=PARENT)

    assert board["threads"][0]["posts"][0]["body"] == "First, corrected."
    assert [p["post_id"] for p in board["pinned"]] == [post["post_id"]]
    assert [s["score"] for s in board["scales"]] == [6]


async def test_a_board_that_may_be_behind_is_folded_again_by_its_reader(forum: Forum) -> None:
    child = await forum.open_account()
    await forum.thread(child, audience="family", body="Before.")
    # A writer that marked the board and stored its change but died before refreshing it:
    await forum.store.mark_changing(child)
    stored = await forum.store.board_views(child)
    assert stored is not None and stored.stale
    folds = forum.store.folds

    board = await forum.board(child)
    again = await forum.board(child)

    assert forum.store.folds == folds + 1  # the first read folded; the second found it current again
    assert board == again and board["threads"][0]["posts"][0]["body"] == "Before."


async def test_an_older_fold_never_replaces_a_newer_stored_board(forum: Forum) -> None:
    child = await forum.open_account()
    await forum.thread(child, audience="family", body="One.")
    stored = await forum.store.board_views(child)
    assert stored is not None
    await forum.thread(child, audience="family", body="Two.")

    # A slow writer's fold from before the second thread arrives last:
    older = {view_key(family_view=True, see_confidential=False): "{}"}
    await forum.store.save_board_views(child, version=stored.version, marks=stored.marks, views=older)

    assert len((await forum.board(child, who=PARENT))["threads"]) == 2


async def test_a_forum_with_no_stored_board_yet_is_folded_once_and_kept(forum: Forum) -> None:
    child = await forum.open_account()

    first = await forum.board(child)
    folds = forum.store.folds
    second = await forum.board(child)

    assert first == second and first["threads"] == [] and forum.store.folds == folds
    assert (
        await service.read_board(
            forum.store,
            child,
            family_view=True,
            can_moderate=False,
            see_confidential=False,
            see_location=True,
            reader_id=PARENT,
            access=None,
        )
    ).threads == []
