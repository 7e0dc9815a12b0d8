"""The cloud's storage: each document's kept keywords, and each child's clouds as served."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from analytics.cloud.models import CloudView
from shared import mongo
from shared.readmodel import ModelView

DOCUMENTS = "keyword_documents"
CLOUDS = "keyword_clouds"
INDEXES = {DOCUMENTS: [IndexModel([("child_id", ASCENDING)])], CLOUDS: []}
_KEPT = {"terms": 1, "scores": 1, "visibility": 1, "supersedes": 1, "agency": 1, "occurred_at": 1}
_KEPT |= {"sensitive_service": 1, "kind": 1, "thread_id": 1, "post_id": 1, "redacted": 1, "version": 1}
_KEPT |= {"child_id": 1}


def cloud_id(child_id: str, view: CloudView) -> str:
    return f"{child_id}:{view}"


class CloudStore(Protocol):
    """What the cloud's use cases need of storage: `MongoCloudStore` here, an in-memory fake in unit tests."""

    async def create_indexes(self) -> None: ...

    async def add_documents(self, docs: Sequence[mongo.Document]) -> mongo.AppendResult:
        """Keep each document's keywords once; a redelivered document is not added twice."""
        ...

    async def existing_ids(self, ids: Sequence[str]) -> set[str]:
        """Which of these document ids are stored, whoever's child they are about."""
        ...

    async def documents_of(self, child_ids: Sequence[str]) -> list[mongo.Document]:
        """Every document of these children, O(their documents): its keywords, visibility, what it corrects,
        when and from whom, and a post's version."""
        ...

    async def put_documents(self, docs: Mapping[str, mongo.Document]) -> None:
        """Write each post's document (keyed by `posts.post_key`) as its latest version says."""
        ...

    async def save_clouds(self, clouds: Mapping[str, mongo.Document]) -> None:
        """Replace each cloud (keyed by `cloud_id`) with what was rebuilt."""
        ...

    async def cloud(self, child_id: str, view: CloudView) -> mongo.Document | None: ...


class MongoCloudStore:
    """`view` is the generation of the cloud to use (`shared.readmodel`); without it, generation 0."""

    def __init__(self, db: AsyncDatabase[mongo.Document], view: ModelView | None = None) -> None:
        self._view = view or ModelView(db, 0)

    @property
    def _documents(self) -> AsyncCollection[mongo.Document]:
        return self._view[DOCUMENTS]

    @property
    def _clouds(self) -> AsyncCollection[mongo.Document]:
        return self._view[CLOUDS]

    async def create_indexes(self) -> None:
        await mongo.ensure_indexes(self._view, INDEXES)

    async def kept_keywords(self, ids: Sequence[str]) -> dict[str, mongo.Document]:
        """Document id → its text's digest and kept keywords, for the ids stored with a digest."""
        fields = {"text_sha": 1, "terms": 1, "scores": 1}
        found = await mongo.find_each(self._documents, "_id", ids, projection=fields)
        return {d["_id"]: d for d in found if "text_sha" in d}

    async def add_documents(self, docs: Sequence[mongo.Document]) -> mongo.AppendResult:
        return await mongo.append_many(self._documents, docs)

    async def existing_ids(self, ids: Sequence[str]) -> set[str]:
        return await mongo.ids_present(self._documents, ids)

    async def documents_of(self, child_ids: Sequence[str]) -> list[mongo.Document]:
        return await mongo.find_each(self._documents, "child_id", child_ids, projection=_KEPT)

    async def put_documents(self, docs: Mapping[str, mongo.Document]) -> None:
        await mongo.update_by_id(self._documents, {k: {"$set": v} for k, v in docs.items()}, upsert=True)

    async def save_clouds(self, clouds: Mapping[str, mongo.Document]) -> None:
        await mongo.update_by_id(self._clouds, {k: {"$set": v} for k, v in clouds.items()}, upsert=True)

    async def cloud(self, child_id: str, view: CloudView) -> mongo.Document | None:
        return await self._clouds.find_one({"_id": cloud_id(child_id, view)})
