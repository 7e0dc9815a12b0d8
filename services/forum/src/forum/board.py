"""The stored board: every kind of reader's view of a child's forum, folded from its change log after each
change and kept beside it, so that reading the forum is one lookup (`service.read_board`)."""

from __future__ import annotations

from forum.domain import Forum
from forum.models import Board
from forum.store import ForumStore, view_key


def board(forum: Forum, *, family_view: bool, can_moderate: bool, see_confidential: bool) -> Board:
    """The child's forum as the reader may see it: threads, pins, the three columns and the scales."""
    return forum.board(family_view=family_view, can_moderate=can_moderate, see_confidential=see_confidential)


# Each kind of reader a view is kept for: (the family's view, may see sensitive services' practitioners).
READERS = [(family, named) for family in (False, True) for named in (False, True)]


async def refresh_board(store: ForumStore, child_id: str, *, marks: int | None = None) -> dict[str, str]:
    """Fold the child's change log into the stored board, every kind of reader's view of it (after each
    change; `marks` as read before the fold, None to read them now). Returns the views saved."""
    if marks is None:
        stored = await store.board_views(child_id)
        marks = stored.marks if stored else 0
    version, changes = await store.history(child_id)
    forum = Forum.fold(child_id, changes)
    views = {
        view_key(family_view=family, see_confidential=named): board(
            forum, family_view=family, can_moderate=False, see_confidential=named
        ).model_dump_json()
        for family, named in READERS
    }
    await store.save_board_views(child_id, version=version, marks=marks, views=views)
    return views
