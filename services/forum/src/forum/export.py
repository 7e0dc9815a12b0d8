"""Searching and exporting a child's forum, as the reader may see it.

Both go through the same visibility as the board: the family view stops at shared threads, a redacted
post keeps no words (not even in its earlier versions), a sensitive service's practitioner is shown
by role only to whoever may not see them, and a shielded child's practitioners are named only to those who
may see where the child is (`domain.Withholding`). Search reads each post's current words: an edit that took
words out takes them out of the search too, while the export still holds the earlier versions, to the
readers who may see the post at all.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from forum.domain import Forum, Withholding, scale_view, visible
from forum.models import PostRead, PostVersion, ScaleRead, ThreadRead


class PostExport(PostRead):
    versions: list[PostVersion] = Field(description="Every version, oldest first (none once redacted).")


class ThreadExport(ThreadRead):
    posts: list[PostExport]  # type: ignore[assignment]


class ForumExport(BaseModel):
    child_id: str
    exported_at: datetime
    family_view: bool = Field(description="True when this is what the family may see.")
    threads: list[ThreadExport]
    scales: list[ScaleRead] = Field(description="Every safety scale recorded, oldest first.")


def search(
    forum: Forum, term: str, *, family_view: bool, see_confidential: bool, withheld: Withholding
) -> list[PostRead]:
    """Posts whose current words contain `term` (any case), newest first."""
    wanted = term.casefold()
    found = [
        withheld.post(post.read(see_confidential=see_confidential))
        for post in forum.posts.values()
        if visible(post.added.audience, family_view=family_view)
        and post.redacted is None
        and wanted in post.versions[-1].body.casefold()
    ]
    return sorted(found, key=lambda p: p.created_at, reverse=True)


def export(
    forum: Forum, *, family_view: bool, see_confidential: bool, withheld: Withholding, now: datetime
) -> ForumExport:
    """Every thread the reader may see, each post with its versions, and the scales."""
    threads = []
    for thread in sorted(forum.threads.values(), key=lambda t: t.at):
        if not visible(thread.audience, family_view=family_view):
            continue
        view = forum.thread_view(thread.thread_id, family_view=family_view, see_confidential=see_confidential)
        posts = [
            PostExport(
                **post.model_dump(),
                versions=[] if post.redacted else list(forum.posts[post.post_id].versions),
            )
            for post in view.posts
        ]
        threads.append(withheld.thread(ThreadExport(**view.model_dump(exclude={"posts"}), posts=posts)))
    scales = [
        withheld.scale(scale_view(s, see_confidential))
        for s in forum.scales
        if visible(s.audience, family_view=family_view)
    ]
    return ForumExport(
        child_id=forum.child_id, exported_at=now, family_view=family_view, threads=threads, scales=scales
    )
