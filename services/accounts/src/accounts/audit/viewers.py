"""Who viewed each child's record, kept as views are consumed: one document per (child, viewer), so the
viewers list reads that child's viewers, never the whole audit log.

Each document carries a watermark, the log position (topic and partition, offset) of the last view it counted.
A child's audit events share one partition (keyed by child id) and one consumer, so the views of one viewer
arrive in log order, and a view at or below the watermark has been counted: a redelivered batch, split the same
way or not, changes nothing. No transaction is needed, only single-document conditional updates (FerretDB has
none; BRIEF §5).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from accounts.audit.models import AuditEntry, KnownViewer
from shared import mongo

VIEWERS = "viewers"
INDEXES = {VIEWERS: [IndexModel([("child_id", ASCENDING), ("last_viewed", DESCENDING)])]}
# A child has few viewers; this bounds one answer should a record be looked at by a whole county.
MAX_VIEWERS = 2000


class ViewerConflict(RuntimeError):
    """Another writer moved a viewer's watermark between our read and our write; the batch is retried."""


@dataclass(frozen=True)
class View:
    """One allowed view of a child's record, where it sits in the log."""

    entry: AuditEntry
    log: str  # "topic:partition"
    offset: int

    @property
    def key(self) -> str:
        return viewer_key(self.entry.child_id or "", self.entry.actor_id)


def viewer_key(child_id: str, person_id: str) -> str:
    return f"{child_id}\x1f{person_id}"


class ViewerStore:
    """The viewers read model in accounts' MongoDB database."""

    def __init__(self, db: AsyncDatabase[mongo.Document]) -> None:
        self._db = db
        self._viewers = db[VIEWERS]

    async def create_indexes(self) -> None:
        await mongo.ensure_indexes(self._db, INDEXES)

    async def of_child(self, child_id: str) -> list[KnownViewer]:
        """The child's viewers, most recent first."""
        cursor = (
            self._viewers.find({"child_id": child_id})
            .sort([("last_viewed", DESCENDING), ("_id", ASCENDING)])
            .limit(MAX_VIEWERS)
        )
        return [KnownViewer.model_validate(doc) async for doc in cursor]

    async def count(self, views: Sequence[View]) -> bool:
        """Count one viewer's views of one child (in log order), each once; False if the viewer is new here."""
        first = views[0]
        # The usual case, in one statement: nothing in this batch was counted before.
        fresh_after = {"$or": [{"log": {"$ne": first.log}}, {"offset": {"$lt": first.offset}}]}
        result = await self._viewers.update_many({"_id": first.key, **fresh_after}, _bump(views))
        if result.matched_count:
            return True
        doc = await self._viewers.find_one({"_id": first.key}, {"log": 1, "offset": 1})
        if doc is None:
            return False
        # A redelivery: count only what lies past the watermark, and only if it has not moved meanwhile.
        uncounted = [v for v in views if v.log != doc["log"] or v.offset > doc["offset"]]
        if not uncounted:
            return True
        moved = await self._viewers.update_many(
            {"_id": first.key, "log": doc["log"], "offset": doc["offset"]}, _bump(uncounted)
        )
        if not moved.matched_count:
            raise ViewerConflict(f"viewer {first.key!r} was updated concurrently")
        return True

    async def first_views(self, views: Sequence[View], *, sensitive_service: bool) -> None:
        """A viewer's first views of a child; `sensitive_service` is looked up once, here."""
        last = max(views, key=lambda v: v.entry.at).entry
        doc: mongo.Document = {
            "_id": views[0].key,
            "child_id": last.child_id,
            **_identity(last),
            "last_viewed": last.at,
            "times": len(views),
            "break_glass": any(v.entry.break_glass for v in views),
            "sensitive_service": sensitive_service,
            "log": views[-1].log,
            "offset": views[-1].offset,
        }
        if (await mongo.append_many(self._viewers, [doc])).duplicate_ids:
            raise ViewerConflict(f"viewer {views[0].key!r} was created concurrently")


def _identity(entry: AuditEntry) -> dict[str, Any]:
    return {
        "person_id": entry.actor_id,
        "name": entry.actor_name,
        "kind": entry.actor_kind,
        "agency": entry.actor_agency,
        "role": entry.actor_role,
    }


def _bump(views: Sequence[View]) -> mongo.Document:
    latest = max(views, key=lambda v: v.entry.at).entry
    update: mongo.Document = {
        "$inc": {"times": len(views)},
        "$max": {"last_viewed": latest.at},
        # How the person is named today (a new role, a new agency) comes with their latest view.
        "$set": {**_identity(latest), "log": views[-1].log, "offset": views[-1].offset},
    }
    if any(v.entry.break_glass for v in views):
        update["$set"]["break_glass"] = True
    return update
