"""The only module that talks to the forum's MongoDB database.

A child's forum is its change log: collection `changes`, one document per accepted request, holding that
request's events in order (a thread and its first post and mentions are one document, so they are stored
together or not at all: FerretDB has no transactions). Each document is also its own outbox entry
(`ChangeOutbox`): the relay publishes its events to `forum.events`, then marks it published.

An edit's document is keyed `<post id>:v<version>`, so two edits of the same version collide on `_id` and the
second is refused (`EditConflict`) instead of silently forking the history.

Collection `boards` is the page's read model: per child, one document keyed by the child's id holding the
board as each kind of reader sees it (`BoardViews`), refolded by the forum's own writes, so reading a board is
one `_id` lookup instead of a fold of the whole change log. A writer first marks the document stale
(`mark_changing`, counting the marks), then stores its change, then saves the refolded views: newer views
(folded from more changes) win, and `stale` clears only if nobody began another change meanwhile. A reader
finding it missing or stale folds the log itself (and saves what it folded the same way).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import ValidationError
from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from forum.domain import Change, EditConflict
from shared import mongo
from shared.contracts.forum import EVENT_TYPES, POST_ADDED, POST_EDITED, ForumEvent
from shared.events import Envelope
from shared.outbox import PENDING_INDEX, OutboxMessage, Pending

CHANGES = "changes"
BOARDS = "boards"
REDACTED_BODY = "(redacted)"
INDEXES = {CHANGES: [IndexModel([("child_id", ASCENDING), ("order", ASCENDING)]), PENDING_INDEX]}


def change_document(
    doc_id: str, topic: str, events: Sequence[tuple[Envelope[ForumEvent], str]]
) -> mongo.Document:
    """One request's changes as stored: each event with its rendered words, and the outbox fields."""
    first = events[0][0]
    return {
        "_id": doc_id,
        "child_id": first.subject,
        # The clock orders one child's changes; the time in nanoseconds breaks ties BSON's milliseconds leave.
        "order": f"{time.time_ns():020d}",
        "post_ids": sorted({p for e, _ in events if (p := getattr(e.data, "post_id", None))}),
        "events": [
            {
                "type": e.type,
                "data": e.data.model_dump(mode="python"),
                "html": html,
                "envelope": e.model_dump_json(),
            }
            for e, html in events
        ],
        "pending": True,
        "written_at": first.time,
        "outbox_topic": topic,
    }


def changes_of(doc: mongo.Document) -> list[Change]:
    out = []
    for item in doc["events"]:
        model = EVENT_TYPES[item["type"]]
        out.append(Change(model.model_validate(item["data"]), item.get("html", "")))
    return out


def pending_of(doc: mongo.Document) -> Pending:
    try:
        topic = doc["outbox_topic"]
        # A redacted post's events lost their envelopes with their words: the rest are still published.
        envelopes = [
            Envelope[Any].model_validate_json(item["envelope"]) for item in doc["events"] if item["envelope"]
        ]
    except (KeyError, TypeError, ValidationError) as err:
        return Pending(id=doc["_id"], unreadable=f"unreadable outbox entry: {type(err).__name__}: {err}")
    return Pending(
        id=doc["_id"],
        messages=[OutboxMessage.of(topic, e) for e in envelopes],
        child_id=doc.get("child_id"),
    )


def redacted_events(doc: mongo.Document, post_id: str) -> list[mongo.Document]:
    """The document's events with the post's words taken out (its other events as they were)."""
    out = []
    for item in doc["events"]:
        if item["type"] in (POST_ADDED, POST_EDITED) and item["data"].get("post_id") == post_id:
            data = {**item["data"], "body": REDACTED_BODY}
            item = {"type": item["type"], "data": data, "html": "", "envelope": ""}
        out.append(item)
    return out


@dataclass(frozen=True)
class BoardViews:
    """A child's stored board: `views` maps `view_key` to the board's JSON; `version` counts the change
    documents it was folded from; `marks` counts the changes begun; `stale` while one may be missing."""

    version: int = -1
    marks: int = 0
    stale: bool = True
    views: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, doc: mongo.Document | None) -> BoardViews | None:
        if doc is None:
            return None
        return cls(
            version=doc.get("version", -1),
            marks=doc.get("marks", 0),
            stale=doc.get("stale", True),
            views=doc.get("views", {}),
        )


def view_key(*, family_view: bool, see_confidential: bool) -> str:
    """Which stored view a reader gets: everything that decides what a board shows is in the key."""
    return ("family" if family_view else "team") + ("-named" if see_confidential else "-masked")


class ForumStore(Protocol):
    """What the use cases need of the forum's storage: `MongoForumStore` here, an in-memory fake in the unit
    tests. It is also the forum's outbox (`shared.outbox.Outbox`)."""

    name: str

    async def create_indexes(self) -> None: ...

    async def add(self, doc: mongo.Document) -> None:
        """Store one request's changes atomically; `EditConflict` if its `_id` is taken."""
        ...

    async def changes(self, child_id: str) -> list[Change]:
        """Every change to the child's forum, in the order made."""
        ...

    async def history(self, child_id: str) -> tuple[int, list[Change]]:
        """How many change documents the child's forum has, and every change in them, in order."""
        ...

    async def mark_changing(self, child_id: str) -> None:
        """Before a change is stored: the stored board may now be behind."""
        ...

    async def board_views(self, child_id: str) -> BoardViews | None: ...

    async def save_board_views(
        self, child_id: str, *, version: int, marks: int, views: Mapping[str, str]
    ) -> None:
        """Keep views folded from `version` change documents unless newer ones are stored; clear `stale`
        if the marks are still `marks` (nobody began a change since the fold started)."""
        ...

    async def erase_words(self, child_id: str, post_id: str) -> int:
        """Take a redacted post's words out of every stored change; returns how many documents changed."""
        ...

    async def pending(self, *, limit: int) -> Sequence[Pending]: ...

    async def mark_published(self, entries: Sequence[Pending]) -> None: ...

    async def set_aside(self, entry: Pending, reason: str) -> None: ...


class MongoForumStore:
    name = CHANGES

    def __init__(self, db: AsyncDatabase[mongo.Document]) -> None:
        self._db = db
        self._changes = db[CHANGES]
        self._boards = db[BOARDS]

    async def create_indexes(self) -> None:
        await mongo.ensure_indexes(self._db, INDEXES)

    async def add(self, doc: mongo.Document) -> None:
        try:
            await self._changes.insert_one(doc)
        except DuplicateKeyError as err:
            raise EditConflict("the post was changed at the same moment; reload it and try again") from err

    async def changes(self, child_id: str) -> list[Change]:
        return (await self.history(child_id))[1]

    async def history(self, child_id: str) -> tuple[int, list[Change]]:
        cursor = self._changes.find(
            {"child_id": child_id}, {"events.type": 1, "events.data": 1, "events.html": 1}
        )
        docs = [d async for d in cursor.sort("order", ASCENDING)]
        return len(docs), [c for d in docs for c in changes_of(d)]

    async def mark_changing(self, child_id: str) -> None:
        # UpdateMany on `_id` throughout: see shared.mongo (FerretDB 1.24).
        await self._boards.update_many(
            {"_id": child_id},
            {"$inc": {"marks": 1}, "$set": {"stale": True}, "$setOnInsert": {"version": -1}},
            upsert=True,
        )

    async def board_views(self, child_id: str) -> BoardViews | None:
        return BoardViews.of(await self._boards.find_one({"_id": child_id}))

    async def save_board_views(
        self, child_id: str, *, version: int, marks: int, views: Mapping[str, str]
    ) -> None:
        if marks == 0:  # no writer has made the document yet (a forum older than the read model, or empty)
            await self._boards.update_many(
                {"_id": child_id}, {"$setOnInsert": {"marks": 0, "version": -1}}, upsert=True
            )
        # `$lt` never matches a missing field: a document without a version has no views yet.
        older = {"$or": [{"version": {"$lt": version}}, {"version": {"$exists": False}}]}
        await self._boards.update_many(
            {"_id": child_id, **older}, {"$set": {"version": version, "views": dict(views)}}
        )
        await self._boards.update_many({"_id": child_id, "marks": marks}, {"$set": {"stale": False}})

    async def erase_words(self, child_id: str, post_id: str) -> int:
        changed = 0
        async for doc in self._changes.find({"child_id": child_id, "post_ids": post_id}):
            events = redacted_events(doc, post_id)
            if events != doc["events"]:
                await self._changes.update_many({"_id": doc["_id"]}, {"$set": {"events": events}})
                changed += 1
        return changed

    async def pending(self, *, limit: int) -> list[Pending]:
        cursor = self._changes.find({"pending": True}).sort("written_at", ASCENDING).limit(limit)
        return [pending_of(d) async for d in cursor]

    async def mark_published(self, entries: Sequence[Pending]) -> None:
        await mongo.update_by_id(self._changes, {e.id: {"$set": {"pending": False}} for e in entries})

    async def set_aside(self, entry: Pending, reason: str) -> None:
        await self._changes.update_many(
            {"_id": entry.id}, {"$set": {"pending": False, "outbox_set_aside": reason}}
        )
