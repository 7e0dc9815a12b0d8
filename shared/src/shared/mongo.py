"""MongoDB plumbing on PyMongo's AsyncMongoClient, shaped by what FerretDB 1.24 does (BRIEF §5).

No transactions exist there, so every write here is a single-document atomic operation or an idempotent
append; bulk updates never use single-document statements (see `update_by_id`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from pymongo import AsyncMongoClient, IndexModel, UpdateMany
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError

Document = dict[str, Any]
DUPLICATE_KEY = 11000
# FerretDB 1.24 holds a PostgreSQL connection per matched UpdateOne/ReplaceOne statement until the command
# ends and hangs past ~100 of them; UpdateMany with an _id filter does not. Chunking bounds a command anyway.
UPDATE_CHUNK = 50
APPEND_LANES = 4
APPEND_MIN_CHUNK = 250
LOOKUPS = 8  # equality queries in flight at once (`find_each`)


class Collections(Protocol):
    """A database, or one read model's collections in one generation (`shared.readmodel.ModelView`)."""

    def __getitem__(self, name: str) -> AsyncCollection[Document]: ...


def connect(url: str, *, app_name: str) -> AsyncMongoClient[Document]:
    """A client that fails fast when the server is away, so readiness says so instead of hanging."""
    return AsyncMongoClient(
        url, appname=app_name, serverSelectionTimeoutMS=5000, connectTimeoutMS=5000, tz_aware=True
    )


async def ensure_indexes(db: Collections, indexes: Mapping[str, Sequence[IndexModel]]) -> None:
    """Create each collection's declared indexes that do not exist yet, one command per index.

    FerretDB 1.24 drops the connection ("slice bounds out of range") on a createIndexes command with two or
    more indexes that already exist, i.e. on every restart of a service; one at a time, only when missing,
    it never sees that command."""
    for collection, models in indexes.items():
        existing = set((await db[collection].index_information()).keys()) if models else set()
        for model in models:
            if model.document["name"] not in existing:
                await db[collection].create_indexes([model])


async def ping(client: AsyncMongoClient[Document]) -> bool:
    try:
        await client.admin.command("ping")
    except Exception:
        return False
    return True


async def find_each(
    collection: AsyncCollection[Document],
    field: str,
    values: Iterable[Any],
    *,
    projection: Mapping[str, Any] | None = None,
    lookups: int = LOOKUPS,
) -> list[Document]:
    """The documents whose `field` equals any of `values`: one equality query per distinct value, `lookups`
    at a time.

    Not `{field: {"$in": values}}`: FerretDB 1.24 pushes only equalities down to PostgreSQL, so an `$in` reads
    the whole collection, O(the system), where an equality on `_id` or on an indexed field costs O(its matches)
    (BRIEF §5, with the local stack's GIN twins). Measured here on 20,000 documents: 200 ids by `$in` 0.57 s,
    one at a time eight in flight 0.18 s; on 50,000, 50 children's documents by `$in` 2.2 s, per child 0.39 s.
    MongoDB answers both from its indexes."""
    gate = asyncio.Semaphore(lookups)

    async def matching(value: Any) -> list[Document]:
        async with gate:
            return [d async for d in collection.find({field: value}, projection)]

    found = await asyncio.gather(*(matching(v) for v in dict.fromkeys(values)))
    return [doc for docs in found for doc in docs]


async def find_any(
    collection: AsyncCollection[Document],
    filters: Sequence[Mapping[str, Any]],
    *,
    projection: Mapping[str, Any] | None = None,
    limit: int = 0,
) -> list[Document]:
    """The documents matching any of `filters` (each a few equalities), once each, in the order of the filters
    that found them; at most `limit` per filter and in all (0: no limit).

    Not `{"$or": filters}`: FerretDB 1.24 pushes no `$or` down to PostgreSQL, so it reads the whole collection
    and filters it itself. Seen here: registering a child matched candidates with `$or` on the date of birth
    and the NHS number, which scanned every child, and past about 2,000 children it took over 12 s and timed
    out. One query per filter costs O(its matches). MongoDB answers both from its indexes."""
    found: dict[Any, Document] = {}
    for where in filters:
        async for doc in collection.find(where, projection).limit(limit):
            found.setdefault(doc["_id"], doc)
    docs = list(found.values())
    return docs[:limit] if limit else docs


async def ids_present(collection: AsyncCollection[Document], ids: Iterable[Any]) -> set[Any]:
    """Which of these `_id`s are stored: O(the ids asked), not O(the collection) (see `find_each`)."""
    return {d["_id"] for d in await find_each(collection, "_id", ids, projection={"_id": 1})}


@dataclass
class AppendResult:
    inserted: int = 0
    duplicate_ids: list[Any] = field(default_factory=list)


async def append_many(
    collection: AsyncCollection[Document], docs: Sequence[Document], *, lanes: int = APPEND_LANES
) -> AppendResult:
    """Insert documents keyed by `_id`, skipping those already stored: the idempotent-append pattern.

    A document whose `_id` exists is a redelivery and is counted as a duplicate; any other write error raises.
    A large batch is split over `lanes` concurrent commands: FerretDB runs each on its own PostgreSQL
    connection, and one connection leaves the second core idle (BRIEF §5: 22,000 docs/s from one client,
    39,000 from four). Order between documents does not matter here: each is its own `_id`.
    """
    if not docs:
        return AppendResult()
    size = max(APPEND_MIN_CHUNK, -(-len(docs) // lanes))
    chunks = [list(docs[i : i + size]) for i in range(0, len(docs), size)]
    results = await asyncio.gather(*(_append_chunk(collection, chunk) for chunk in chunks))
    return AppendResult(
        inserted=sum(r.inserted for r in results), duplicate_ids=[d for r in results for d in r.duplicate_ids]
    )


async def _append_chunk(collection: AsyncCollection[Document], docs: list[Document]) -> AppendResult:
    try:
        result = await collection.insert_many(docs, ordered=False)
        return AppendResult(inserted=len(result.inserted_ids))
    except BulkWriteError as err:
        errors = err.details.get("writeErrors", [])
        others = [e for e in errors if e.get("code") != DUPLICATE_KEY]
        if others:
            raise
        dup_ids = [docs[e["index"]]["_id"] for e in errors]
        return AppendResult(inserted=len(docs) - len(dup_ids), duplicate_ids=dup_ids)


async def update_by_id(
    collection: AsyncCollection[Document], updates: Mapping[Any, Document], *, upsert: bool = False
) -> int:
    """Apply one update document per `_id`, in bulk, safely on FerretDB; returns how many matched.

    Taking a mapping collapses repeated keys before writing (one statement per document), and every
    statement is an `UpdateMany` on `_id` in chunks (see UPDATE_CHUNK), never `UpdateOne`/`ReplaceOne`.
    """
    matched = 0
    for chunk in _chunks(list(updates.items()), UPDATE_CHUNK):
        ops = [UpdateMany({"_id": key}, update, upsert=upsert) for key, update in chunk]
        result = await collection.bulk_write(ops, ordered=False)
        matched += result.matched_count
    return matched


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
