"""An in-memory `NotificationStore` with the semantics of `MongoNotificationStore`, for unit tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from notifications.pattern import Signal
from notifications.store import viewer_key
from shared.mongo import AppendResult, Document
from testsupport.memory import append_by_id, stored_form


class FakeNotificationStore:
    def __init__(self) -> None:
        self.inbox: dict[str, Document] = {}
        self.prefs: dict[str, Document] = {}
        self.emails: dict[str, Document] = {}
        self.viewers: dict[str, Document] = {}
        self.signal_docs: dict[str, Document] = {}
        self.looks: dict[tuple[str, str], datetime] = {}

    async def create_indexes(self) -> None:
        pass

    async def last_seq(self, person_id: str) -> int:
        return max((d["seq"] for d in self.inbox.values() if d["person_id"] == person_id), default=0)

    async def add(self, docs: Sequence[Document]) -> AppendResult:
        taken = {(d["person_id"], d["seq"]) for d in self.inbox.values()}
        result = AppendResult()
        for doc in docs:
            if doc["_id"] in self.inbox or (doc["person_id"], doc["seq"]) in taken:
                result.duplicate_ids.append(doc["_id"])
                continue
            self.inbox[doc["_id"]] = stored_form(doc)
            taken.add((doc["person_id"], doc["seq"]))
            result.inserted += 1
        return result

    async def existing(self, ids: Sequence[str]) -> set[str]:
        return {i for i in ids if i in self.inbox}

    def _of(self, person_id: str) -> list[Document]:
        return sorted((d for d in self.inbox.values() if d["person_id"] == person_id), key=lambda d: d["seq"])

    async def newest(self, person_id: str, *, limit: int, before_seq: int | None = None) -> list[Document]:
        docs = [d for d in reversed(self._of(person_id)) if before_seq is None or d["seq"] < before_seq]
        return docs[:limit]

    async def after(self, person_id: str, seq: int, *, limit: int) -> list[Document]:
        return [d for d in self._of(person_id) if d["seq"] > seq][:limit]

    async def unread(self, person_id: str, *, limit: int) -> list[Document]:
        return [d for d in reversed(self._of(person_id)) if not d["read"]][:limit]

    async def mark_read(self, person_id: str, ids: Sequence[str] | None, at: datetime) -> int:
        n = 0
        for doc in self._of(person_id):
            if not doc["read"] and (ids is None or doc["_id"] in ids):
                doc.update(read=True, read_at=at)
                n += 1
        return n

    async def preferences(self, person_id: str) -> Document | None:
        return self.prefs.get(person_id)

    async def set_preferences(self, person_id: str, doc: Document) -> None:
        self.prefs[person_id] = {**doc, "_id": person_id}

    async def first_view(self, *, child_id: str, person_id: str, event_id: str) -> bool:
        key = viewer_key(child_id, person_id)
        if key in self.viewers:
            return bool(self.viewers[key]["first_event"] == event_id)
        self.viewers[key] = {"_id": key, "first_event": event_id}
        return True

    async def add_signals(self, signals: Sequence[Signal]) -> None:
        for s in signals:
            doc = {"_id": s.key, "child_id": s.child_id, "agency": s.agency, "at": stored_form(s.at)}
            self.signal_docs.setdefault(s.key, doc)

    async def signals_of(self, child_ids: Sequence[str]) -> list[Signal]:
        docs = [d for d in self.signal_docs.values() if d["child_id"] in child_ids]
        return [Signal(d["_id"], d["child_id"], d["agency"], d["at"]) for d in docs]

    async def looked(self, looks: Mapping[tuple[str, str], datetime]) -> None:
        for key, at in looks.items():
            at = stored_form(at)
            self.looks[key] = max(at, self.looks.get(key, at))

    async def looks_of(self, person_id: str, child_ids: Sequence[str]) -> dict[str, datetime]:
        return {c: self.looks[(c, person_id)] for c in child_ids if (c, person_id) in self.looks}

    async def about_since(
        self, person_id: str, child_id: str, since: datetime | None, *, limit: int
    ) -> list[Document]:
        docs = [
            d
            for d in reversed(self._of(person_id))
            if d["child_id"] == child_id and (since is None or d["created_at"] > since)
        ]
        return docs[:limit]

    async def recent_unread(self, since: datetime) -> list[Document]:
        return [d for d in self.inbox.values() if not d["read"] and d["created_at"] >= since]

    async def queue_emails(self, docs: Sequence[Document]) -> None:
        append_by_id(self.emails, docs)

    async def due_emails(self, now: datetime, *, limit: int) -> list[Document]:
        due = [d for d in self.emails.values() if d["state"] == "pending" and d["due_at"] <= now]
        return sorted(due, key=lambda d: d["due_at"])[:limit]

    async def update_email(self, email_id: str, changes: dict[str, Any]) -> None:
        self.emails[email_id].update(stored_form(changes))

    def of(self, person_id: str) -> list[Document]:
        return self._of(person_id)
