"""The audit log in accounts' MongoDB database: one document per audit event or account change, keyed by
event id, so a redelivered record is ignored."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from accounts.audit.models import AuditEntry
from accounts.audit.viewers import ViewerStore
from shared import mongo

AUDIT = "audit"
INDEXES = {
    AUDIT: [
        IndexModel([("child_id", ASCENDING), ("at", DESCENDING)]),
        IndexModel([("actor_id", ASCENDING), ("at", DESCENDING)]),
        IndexModel([("action", ASCENDING), ("at", DESCENDING)]),
        IndexModel([("at", DESCENDING)]),
    ],
}


class AuditStore:
    """The audit log: one document per audit event or account change, keyed by event id (idempotent), and
    the viewers read model kept from it."""

    def __init__(self, db: AsyncDatabase[mongo.Document]) -> None:
        self._db = db
        self._entries = db[AUDIT]
        self.viewers = ViewerStore(db)

    async def create_indexes(self) -> None:
        await mongo.ensure_indexes(self._db, INDEXES)
        await self.viewers.create_indexes()

    async def add(self, entries: Sequence[AuditEntry]) -> int:
        docs = []
        for entry in entries:
            doc = entry.model_dump()
            doc["_id"] = doc.pop("id")
            docs.append(doc)
        return (await mongo.append_many(self._entries, docs)).inserted

    async def query(
        self,
        *,
        child_id: str | None = None,
        actor_id: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        allowed: bool | None = None,
        actions: Sequence[str] | None = None,
        limit: int = 100,
    ) -> list[AuditEntry]:
        """Entries matching every given filter, newest first."""
        query: dict[str, Any] = {}
        if child_id is not None:
            query["child_id"] = child_id
        if actor_id is not None:
            query["actor_id"] = actor_id
        if action is not None:
            query["action"] = action
        elif actions is not None:
            query["action"] = {"$in": list(actions)}
        if allowed is not None:
            query["allowed"] = allowed
        if since is not None or until is not None:
            window: dict[str, datetime] = {}
            if since is not None:
                window["$gte"] = since
            if until is not None:
                window["$lt"] = until
            query["at"] = window
        cursor = self._entries.find(query).sort([("at", DESCENDING), ("_id", DESCENDING)]).limit(limit)
        return [_audit(d) async for d in cursor]


def _audit(doc: mongo.Document) -> AuditEntry:
    return AuditEntry.model_validate({**doc, "id": doc["_id"]})
