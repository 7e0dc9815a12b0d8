"""The only module that talks to analytics' MongoDB database."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from shared import mongo
from shared.readmodel import ModelView

POINTS = "contact_points"
_POINT_FIELDS = {"agency": 1, "day": 1, "sensitive_service": 1, "supersedes": 1}
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

    async def points(self, *, child_id: str, family_view: bool) -> list[mongo.Document]:
        """The child's points (id, agency, day, sensitive, what each corrects); the family's leave restricted
        contacts out."""
        ...


class MongoAnalyticsStore:
    """`view` is the generation of the graph to use (`shared.readmodel`); without it, generation 0."""

    def __init__(self, db: AsyncDatabase[mongo.Document], view: ModelView | None = None) -> None:
        self._view = view or ModelView(db, 0)

    @property
    def _points(self) -> AsyncCollection[mongo.Document]:
        return self._view[POINTS]

    async def create_indexes(self) -> None:
        await mongo.ensure_indexes(self._view, INDEXES)

    async def add_points(self, docs: Sequence[mongo.Document]) -> mongo.AppendResult:
        """Append one point per (agency, event id); a redelivered event is not counted twice."""
        return await mongo.append_many(self._points, docs)

    async def existing_ids(self, ids: Sequence[str]) -> set[str]:
        """Which of these point ids (`<agency>:<event id>`) are stored, whoever's child they are about."""
        return await mongo.ids_present(self._points, ids)

    async def points(self, *, child_id: str, family_view: bool) -> list[mongo.Document]:
        """The child's points; counted by the caller, since a correction replaces its original and FerretDB
        has no way to say so in an aggregation: O(that child's contacts)."""
        query: dict[str, Any] = {"child_id": child_id}
        if family_view:
            query["visibility"] = "family_visible"
        return [d async for d in self._points.find(query, _POINT_FIELDS)]
