"""The only module that talks to notifications' MongoDB database: inboxes, preferences, emails, and the
little memory two rules keep (who has opened a child's record; the signals the cross-agency pattern counts), and
when each person last looked at each child (for "what changed since you last looked").

Every write is a single-document operation or an idempotent append (no transactions on FerretDB, BRIEF §5).
A notification's `_id` comes from (event id, person), so a redelivered event finds its notification stored
and writes nothing; its `seq` (its place in the person's inbox, the live stream's event id) is unique per
person, so two writers can never give two notifications the same place.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from notifications.pattern import Signal
from shared import mongo

INBOX = "inbox"
PREFERENCES = "preferences"
EMAILS = "emails"
VIEWERS = "viewers"
SIGNALS = "pattern_signals"
LOOKS = "looks"
PREFERENCES_KEPT = 50_000
INDEXES = {
    INBOX: [
        IndexModel([("person_id", ASCENDING), ("seq", ASCENDING)], unique=True, name="person_seq"),
        IndexModel([("person_id", ASCENDING), ("read", ASCENDING)]),
        IndexModel([("person_id", ASCENDING), ("child_id", ASCENDING), ("created_at", ASCENDING)]),
    ],
    EMAILS: [IndexModel([("state", ASCENDING), ("due_at", ASCENDING)])],
}


def viewer_key(child_id: str, person_id: str) -> str:
    """One key per (child, person); hashed, since PostgreSQL's jsonb (under FerretDB) refuses a NUL."""
    return hashlib.sha256(f"{child_id}\x00{person_id}".encode()).hexdigest()


class NotificationStore(Protocol):
    """What the use cases need of the storage: `MongoNotificationStore` here, an in-memory fake in unit tests."""

    async def create_indexes(self) -> None: ...

    async def last_seq(self, person_id: str) -> int:
        """The highest `seq` in the person's inbox (0 when empty)."""
        ...

    async def add(self, docs: Sequence[mongo.Document]) -> mongo.AppendResult:
        """Append notifications; a duplicate `_id` or a taken (person, seq) is reported, not raised."""
        ...

    async def existing(self, ids: Sequence[str]) -> set[str]: ...

    async def newest(
        self, person_id: str, *, limit: int, before_seq: int | None = None
    ) -> list[mongo.Document]:
        """The person's notifications, newest first."""
        ...

    async def after(self, person_id: str, seq: int, *, limit: int) -> list[mongo.Document]:
        """The person's notifications after `seq`, oldest first (the live stream's catch-up)."""
        ...

    async def unread(self, person_id: str, *, limit: int) -> list[mongo.Document]: ...

    async def mark_read(self, person_id: str, ids: Sequence[str] | None, at: datetime) -> int:
        """Mark these of the person's notifications read (all unread ones if `ids` is None)."""
        ...

    async def preferences(self, person_id: str) -> mongo.Document | None: ...

    async def set_preferences(self, person_id: str, doc: mongo.Document) -> None: ...

    async def first_view(self, *, child_id: str, person_id: str, event_id: str) -> bool:
        """Record that the person opened the child's record; True if this event is their first view."""
        ...

    async def add_signals(self, signals: Sequence[Signal]) -> None:
        """Keep signals of the cross-agency pattern, each under its child (a redelivery changes nothing)."""
        ...

    async def signals_of(self, child_ids: Sequence[str]) -> list[Signal]: ...

    async def looked(self, looks: Mapping[tuple[str, str], datetime]) -> None:
        """Record that each (child, person) looked at the child at that time (an earlier time changes nothing)."""
        ...

    async def looks_of(self, person_id: str, child_ids: Sequence[str]) -> dict[str, datetime]:
        """When the person last looked at each of these children (those never looked at are left out)."""
        ...

    async def about_since(
        self, person_id: str, child_id: str, since: datetime | None, *, limit: int
    ) -> list[mongo.Document]:
        """The person's notifications about the child created after `since` (all if None), newest first."""
        ...

    async def recent_unread(self, since: datetime) -> list[mongo.Document]:
        """Everyone's unread notifications created since `since` (for the digest)."""
        ...

    async def queue_emails(self, docs: Sequence[mongo.Document]) -> None: ...

    async def due_emails(self, now: datetime, *, limit: int) -> list[mongo.Document]: ...

    async def update_email(self, email_id: str, changes: mongo.Document) -> None: ...


class MongoNotificationStore:
    def __init__(self, db: AsyncDatabase[mongo.Document], *, preferences_ttl_s: float = 0.0) -> None:
        self._db = db
        # Preferences are read for every batch of notifications and every push to a stream: kept for
        # `preferences_ttl_s`, replaced at once when changed here; another replica's change is seen that late.
        self._prefs_ttl_s = preferences_ttl_s
        self._prefs_kept: dict[str, tuple[float, mongo.Document | None]] = {}
        self._inbox = db[INBOX]
        self._prefs = db[PREFERENCES]
        self._emails = db[EMAILS]
        self._viewers = db[VIEWERS]
        self._signals = db[SIGNALS]
        self._looks = db[LOOKS]

    async def create_indexes(self) -> None:
        await mongo.ensure_indexes(self._db, INDEXES)

    async def last_seq(self, person_id: str) -> int:
        doc = await self._inbox.find_one({"person_id": person_id}, sort=[("seq", DESCENDING)])
        return int(doc["seq"]) if doc else 0

    async def add(self, docs: Sequence[mongo.Document]) -> mongo.AppendResult:
        return await mongo.append_many(self._inbox, docs, lanes=1)

    async def existing(self, ids: Sequence[str]) -> set[str]:
        return await mongo.ids_present(self._inbox, ids)

    async def newest(
        self, person_id: str, *, limit: int, before_seq: int | None = None
    ) -> list[mongo.Document]:
        query: dict[str, Any] = {"person_id": person_id}
        if before_seq is not None:
            query["seq"] = {"$lt": before_seq}
        return await self._inbox.find(query).sort("seq", DESCENDING).limit(limit).to_list()

    async def after(self, person_id: str, seq: int, *, limit: int) -> list[mongo.Document]:
        query = {"person_id": person_id, "seq": {"$gt": seq}}
        return await self._inbox.find(query).sort("seq", ASCENDING).limit(limit).to_list()

    async def unread(self, person_id: str, *, limit: int) -> list[mongo.Document]:
        query = {"person_id": person_id, "read": False}
        return await self._inbox.find(query).sort("seq", DESCENDING).limit(limit).to_list()

    async def mark_read(self, person_id: str, ids: Sequence[str] | None, at: datetime) -> int:
        query: dict[str, Any] = {"person_id": person_id, "read": False}
        if ids is not None:
            query["_id"] = {"$in": list(ids)}
        result = await self._inbox.update_many(query, {"$set": {"read": True, "read_at": at}})
        return result.modified_count

    async def preferences(self, person_id: str) -> mongo.Document | None:
        kept = self._prefs_kept.get(person_id)
        if kept is not None and time.monotonic() - kept[0] < self._prefs_ttl_s:
            return kept[1]
        read_at = time.monotonic()
        doc = await self._prefs.find_one({"_id": person_id})
        if self._prefs_kept.get(person_id) is not kept:
            return doc  # changed here while we read: what we read may be older, so it is not kept
        if len(self._prefs_kept) >= PREFERENCES_KEPT:
            self._prefs_kept.clear()  # a crude bound; the next reads fill it again
        self._prefs_kept[person_id] = (read_at, doc)
        return doc

    async def set_preferences(self, person_id: str, doc: mongo.Document) -> None:
        self._prefs_kept.pop(person_id, None)
        stored = {**doc, "_id": person_id}
        await self._prefs.replace_one({"_id": person_id}, stored, upsert=True)
        self._prefs_kept[person_id] = (time.monotonic(), stored)

    async def first_view(self, *, child_id: str, person_id: str, event_id: str) -> bool:
        key = viewer_key(child_id, person_id)
        try:
            await self._viewers.insert_one({"_id": key, "first_event": event_id})
        except DuplicateKeyError:
            doc = await self._viewers.find_one({"_id": key})
            return bool(doc and doc.get("first_event") == event_id)  # a redelivery of the first view
        return True

    async def add_signals(self, signals: Sequence[Signal]) -> None:
        # One document per child, a signal per field named by a hash of its agency and day (no dots): one
        # single-document $set per child and batch, idempotent, and reads that scan few documents.
        updates: dict[str, mongo.Document] = {}
        for s in signals:
            name = f"signals.{hashlib.sha256(f'{s.agency}|{s.at.date()}'.encode()).hexdigest()[:24]}"
            updates.setdefault(s.child_id, {"$set": {}})["$set"][name] = {
                "key": s.key,
                "agency": s.agency,
                "at": s.at,
            }
        await mongo.update_by_id(self._signals, updates, upsert=True)

    async def signals_of(self, child_ids: Sequence[str]) -> list[Signal]:
        docs = await asyncio.gather(
            *(self._signals.find_one({"_id": c}) for c in child_ids)
        )  # no $in: BRIEF §5
        return [
            Signal(s["key"], child_id, s["agency"], s["at"])
            for child_id, doc in zip(child_ids, docs, strict=True)
            for s in (doc or {}).get("signals", {}).values()
        ]

    async def looked(self, looks: Mapping[tuple[str, str], datetime]) -> None:
        # $max: a redelivered or late view never moves the last look back; one statement per document.
        updates = {
            viewer_key(child_id, person_id): {
                "$max": {"looked_at": at},
                "$set": {"person_id": person_id, "child_id": child_id},
            }
            for (child_id, person_id), at in looks.items()
        }
        await mongo.update_by_id(self._looks, updates, upsert=True)

    async def looks_of(self, person_id: str, child_ids: Sequence[str]) -> dict[str, datetime]:
        docs = await asyncio.gather(
            *(self._looks.find_one({"_id": viewer_key(c, person_id)}) for c in child_ids)
        )  # no $in: BRIEF §5
        return {c: d["looked_at"] for c, d in zip(child_ids, docs, strict=True) if d and "looked_at" in d}

    async def about_since(
        self, person_id: str, child_id: str, since: datetime | None, *, limit: int
    ) -> list[mongo.Document]:
        query: dict[str, Any] = {"person_id": person_id, "child_id": child_id}
        if since is not None:
            query["created_at"] = {"$gt": since}
        return await self._inbox.find(query).sort("created_at", DESCENDING).limit(limit).to_list()

    async def recent_unread(self, since: datetime) -> list[mongo.Document]:
        return await self._inbox.find({"read": False, "created_at": {"$gte": since}}).to_list()

    async def queue_emails(self, docs: Sequence[mongo.Document]) -> None:
        await mongo.append_many(self._emails, docs, lanes=1)

    async def due_emails(self, now: datetime, *, limit: int) -> list[mongo.Document]:
        query = {"state": "pending", "due_at": {"$lte": now}}
        return await self._emails.find(query).sort("due_at", ASCENDING).limit(limit).to_list()

    async def update_email(self, email_id: str, changes: mongo.Document) -> None:
        await mongo.update_by_id(self._emails, {email_id: {"$set": changes}})
