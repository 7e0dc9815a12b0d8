"""The only module that talks to analytics' MongoDB database."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from analytics.models import Granularity
from shared import mongo

POINTS = "contact_points"
INDEXES = {POINTS: [IndexModel([("child_id", ASCENDING), ("day", ASCENDING)])]}


class AnalyticsStore(Protocol):
    """What the use cases need of analytics' storage: `MongoAnalyticsStore` here, an in-memory fake in the
    unit tests."""

    async def create_indexes(self) -> None: ...

    async def add_points(self, docs: Sequence[mongo.Document]) -> mongo.AppendResult:
        """Append one point per (agency, event id); a redelivered event is not counted twice."""
        ...

    async def existing_ids(self, ids: Sequence[str]) -> set[str]:
        """Which of these point ids (`<agency>:<event id>`) are stored, whoever's child they are about."""
        ...

    async def counts(
        self, *, child_id: str, granularity: Granularity, family_view: bool
    ) -> list[tuple[str, bool, str, int]]:
        """(agency, from a sensitive service, period, contacts) for a child, in no particular order; the
        family's counts leave restricted contacts out."""
        ...


class MongoAnalyticsStore:
    def __init__(self, db: AsyncDatabase[mongo.Document]) -> None:
        self._db = db
        self._points = db[POINTS]

    async def create_indexes(self) -> None:
        await mongo.ensure_indexes(self._db, INDEXES)

    async def add_points(self, docs: Sequence[mongo.Document]) -> mongo.AppendResult:
        """Append one point per (agency, event id); a redelivered event is not counted twice."""
        return await mongo.append_many(self._points, docs)

    async def existing_ids(self, ids: Sequence[str]) -> set[str]:
        """Which of these point ids (`<agency>:<event id>`) are stored, whoever's child they are about."""
        return {d["_id"] async for d in self._points.find({"_id": {"$in": list(ids)}}, {"_id": 1})}

    async def counts(
        self, *, child_id: str, granularity: Granularity, family_view: bool
    ) -> list[tuple[str, bool, str, int]]:
        """(agency, from a sensitive service, period, contacts) for a child; the family's counts leave
        restricted contacts out."""
        match: dict[str, Any] = {"child_id": child_id}
        if family_view:
            match["visibility"] = "family_visible"
        key = {"agency": "$agency", "sensitive": "$sensitive_service", "period": f"${granularity}"}
        pipeline: list[dict[str, Any]] = [{"$match": match}, {"$group": {"_id": key, "n": {"$sum": 1}}}]
        rows = [d async for d in await self._points.aggregate(pipeline)]
        return [
            (r["_id"]["agency"], r["_id"].get("sensitive") is True, r["_id"]["period"], int(r["n"]))
            for r in rows
        ]
