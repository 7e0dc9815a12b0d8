"""The scale history's storage: one document per recorded scale."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from shared import mongo
from shared.readmodel import ModelView

SCALES = "safety_scales"
INDEXES = {SCALES: [IndexModel([("child_id", ASCENDING), ("at", ASCENDING)])]}


class ScaleStore(Protocol):
    """What the scale history needs of storage: `MongoScaleStore` here, an in-memory fake in unit tests."""

    async def create_indexes(self) -> None: ...

    async def add_scales(self, docs: Sequence[mongo.Document]) -> mongo.AppendResult:
        """Keep each scale once; a redelivered scale is not added twice."""
        ...

    async def scales(self, *, child_id: str, family_view: bool) -> list[mongo.Document]:
        """The child's scales, oldest first; the family's only those recorded in family-audience threads."""
        ...


class MongoScaleStore:
    """`view` is the generation of the history to use (`shared.readmodel`); without it, generation 0."""

    def __init__(self, db: AsyncDatabase[mongo.Document], view: ModelView | None = None) -> None:
        self._view = view or ModelView(db, 0)

    @property
    def _scales(self) -> AsyncCollection[mongo.Document]:
        return self._view[SCALES]

    async def create_indexes(self) -> None:
        await mongo.ensure_indexes(self._view, INDEXES)

    async def add_scales(self, docs: Sequence[mongo.Document]) -> mongo.AppendResult:
        return await mongo.append_many(self._scales, docs)

    async def scales(self, *, child_id: str, family_view: bool) -> list[mongo.Document]:
        query: dict[str, Any] = {"child_id": child_id}
        if family_view:
            query["audience"] = "family"
        return [d async for d in self._scales.find(query).sort([("at", ASCENDING), ("_id", ASCENDING)])]
