"""Typed dependencies of chronology's routes: what `create_app` put on `app.state`, and the path ids."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Request

from chronology.store import ChronologyStore
from shared.guard import Guard
from shared.topics import Topics


@dataclass(frozen=True)
class Chronology:
    """What the routes need, built once in `create_app`."""

    store: ChronologyStore
    guard: Guard
    topics: Topics
    notify_outbox: Callable[[], None]  # a mark was written: publish it now


def get_chronology(request: Request) -> Chronology:
    chronology: Chronology = request.app.state.chronology
    return chronology


ChronologyDep = Annotated[Chronology, Depends(get_chronology)]
ChildId = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")]
# `<agency>:<event id>`: up to 50 + 1 + 100 characters.
EntryId = Annotated[str, Path(min_length=1, max_length=160, pattern=r"^[A-Za-z0-9_.:-]+$")]
