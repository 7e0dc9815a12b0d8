"""The cloud's storage: each document's kept keywords, and each child's clouds as served, in one document
per child with what they were counted from (`models.CloudState`)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from analytics.cloud.models import CloudState, CloudView
from shared import mongo
from shared.readmodel import ModelView

DOCUMENTS = "keyword_documents"
CLOUDS = "keyword_clouds"
INDEXES = {DOCUMENTS: [IndexModel([("child_id", ASCENDING)])], CLOUDS: []}
_KEPT = {"terms": 1, "scores": 1, "visibility": 1, "supersedes": 1, "agency": 1, "occurred_at": 1}
_KEPT |= {"sensitive_service": 1, "kind": 1, "thread_id": 1, "post_id": 1, "redacted": 1, "version": 1}
_KEPT |= {"child_id": 1, "text_sha": 1}


Cloud = tuple[int, list[tuple[str, int]]]  # (documents counted, ranked terms) of one view


def cloud_document(state: str, revision: int, clouds: Mapping[CloudView, Cloud]) -> mongo.Document:
    """A child's clouds as stored, beside the state they were counted from; the terms are a string for the
    same reason the state is (`models.CloudState.text`)."""
    views: dict[str, Any] = {
        view: {"documents": n, "terms": json.dumps(terms, separators=(",", ":"))}
        for view, (n, terms) in clouds.items()
    }
    return {"state": state, "revision": revision, **views}


def served(doc: mongo.Document | None, view: CloudView) -> Cloud | None:
    if doc is None or view not in doc:
        return None
    return int(doc[view]["documents"]), [(t, int(n)) for t, n in json.loads(doc[view]["terms"])]


class CloudStore(Protocol):
    """What the cloud's use cases need of storage: `MongoCloudStore` here, an in-memory fake in unit tests."""

    async def create_indexes(self) -> None: ...

    async def add_documents(self, docs: Sequence[mongo.Document]) -> mongo.AppendResult:
        """Keep each document's keywords once; a redelivered document is not added twice."""
        ...

    async def existing_ids(self, ids: Sequence[str]) -> set[str]:
        """Which of these document ids are stored, whoever's child they are about."""
        ...

    async def kept_documents(self, ids: Sequence[str]) -> dict[str, mongo.Document]:
        """Document id → what `documents_of` gives of it and its text's digest, for those of these ids stored."""
        ...

    async def documents_of(self, child_ids: Sequence[str]) -> list[mongo.Document]:
        """Every document of these children, O(their documents): its keywords, visibility, what it corrects,
        when and from whom, and a post's version."""
        ...

    async def put_documents(self, docs: Mapping[str, mongo.Document]) -> None:
        """Write each post's document (keyed by `posts.post_key`) as its latest version says."""
        ...

    async def states(self, child_ids: Sequence[str]) -> dict[str, CloudState]:
        """Each child's state (an empty one at revision 0 for a child with no clouds yet), O(these children)."""
        ...

    async def save_clouds(self, child_id: str, state: CloudState, clouds: Mapping[CloudView, Cloud]) -> bool:
        """Save the child's state and clouds as the revision after `state.revision`, only if the stored one is
        still that: False when another writer got there first (then read the state again and apply the
        changes to it)."""
        ...

    async def cloud(self, child_id: str, view: CloudView) -> Cloud | None: ...


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

    async def kept_documents(self, ids: Sequence[str]) -> dict[str, mongo.Document]:
        found = await mongo.find_each(self._documents, "_id", ids, projection=_KEPT)
        return {d["_id"]: d for d in found}

    async def add_documents(self, docs: Sequence[mongo.Document]) -> mongo.AppendResult:
        return await mongo.append_many(self._documents, docs)

    async def existing_ids(self, ids: Sequence[str]) -> set[str]:
        return await mongo.ids_present(self._documents, ids)

    async def documents_of(self, child_ids: Sequence[str]) -> list[mongo.Document]:
        return await mongo.find_each(self._documents, "child_id", child_ids, projection=_KEPT)

    async def put_documents(self, docs: Mapping[str, mongo.Document]) -> None:
        await mongo.update_by_id(self._documents, {k: {"$set": v} for k, v in docs.items()}, upsert=True)

    async def states(self, child_ids: Sequence[str]) -> dict[str, CloudState]:
        found = await mongo.find_each(self._clouds, "_id", child_ids, projection={"state": 1, "revision": 1})
        states = {c: CloudState() for c in child_ids}
        states |= {d["_id"]: CloudState.decode(d["state"], int(d["revision"])) for d in found}
        return states

    async def save_clouds(self, child_id: str, state: CloudState, clouds: Mapping[CloudView, Cloud]) -> bool:
        doc = {"child_id": child_id, **cloud_document(state.text, state.revision + 1, clouds)}
        try:  # none stored at that revision: the upsert inserts one, which a newer revision's `_id` refuses
            await self._clouds.update_one(
                {"_id": child_id, "revision": state.revision}, {"$set": doc}, upsert=True
            )
        except DuplicateKeyError:
            return False
        return True

    async def cloud(self, child_id: str, view: CloudView) -> Cloud | None:
        return served(await self._clouds.find_one({"_id": child_id}, {view: 1}), view)
