"""The only module that talks to chronology's MongoDB database."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from chronology.models import ChronologyEntry
from shared import mongo

ENTRIES = "entries"
INDEXES = {
    ENTRIES: [IndexModel([("child_id", ASCENDING), ("occurred_at", ASCENDING), ("_id", ASCENDING)])],
}


class ChronologyStore:
    def __init__(self, db: AsyncDatabase[mongo.Document]) -> None:
        self._entries = db[ENTRIES]
        self._db = db

    async def create_indexes(self) -> None:
        await mongo.ensure_indexes(self._db, INDEXES)

    async def add_entries(self, docs: Sequence[mongo.Document]) -> mongo.AppendResult:
        """Append entry documents keyed by event id; one already stored is left as it is (idempotent)."""
        return await mongo.append_many(self._entries, docs)

    async def page(
        self, *, child_id: str, limit: int, after: tuple[datetime, str] | None = None
    ) -> list[ChronologyEntry]:
        """A child's entries in time order (ties by id), starting after the cursor position."""
        query: dict[str, Any] = {"child_id": child_id}
        if after is not None:
            at, last_id = after
            query["$or"] = [{"occurred_at": {"$gt": at}}, {"occurred_at": at, "_id": {"$gt": last_id}}]
        cursor = self._entries.find(query).sort([("occurred_at", ASCENDING), ("_id", ASCENDING)]).limit(limit)
        return [_from_doc(d) async for d in cursor]

    async def count(self, *, child_id: str) -> int:
        return await self._entries.count_documents({"child_id": child_id})


def _from_doc(doc: mongo.Document) -> ChronologyEntry:
    doc["id"] = doc.pop("_id")
    return ChronologyEntry.model_validate(doc)
