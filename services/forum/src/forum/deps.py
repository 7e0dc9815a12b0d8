"""Typed dependencies of the forum's routes: what `create_app` put on `app.state`, and the path ids."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Request

from forum.store import ForumStore
from shared.guard import Guard
from shared.topics import Topics


@dataclass(frozen=True)
class ForumContext:
    """What the routes need, built once in `create_app`."""

    store: ForumStore
    guard: Guard
    topics: Topics
    notify_outbox: Callable[[], None]  # a change was written: publish it now


def get_forum(request: Request) -> ForumContext:
    forum: ForumContext = request.app.state.forum
    return forum


ForumDep = Annotated[ForumContext, Depends(get_forum)]
ChildId = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")]
ThreadId = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")]
PostId = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")]
