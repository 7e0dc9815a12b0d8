"""The only module that talks to chronology's MongoDB database."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, time
from typing import Any, Protocol

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from chronology.models import HIDDEN_PROVIDER, ChronologyEntry, ChronologyQuery
from shared import mongo
from shared.outbox import PENDING_INDEX
from shared.readmodel import ModelView

ENTRIES = "entries"
MARKS = "significance_marks"  # the lead's marks, append-only; each carries its event (shared.outbox)
# A child's page is found by `child_id` (the prefix of the `supersedes` index) and sorted in memory: it is
# one child's entries. An index on `occurred_at` served no query on the local stack (FerretDB pushes down
# only equality, and no query asks for one `occurred_at`), and its GIN twin cost every insert.
# The entries are the read model (rebuilt from the topics, `chronology.readmodels`); the marks are the lead's
# own records, written once and never rebuilt.
ENTRY_INDEXES = {ENTRIES: [IndexModel([("child_id", ASCENDING), ("supersedes", ASCENDING)])]}
MARK_INDEXES = {MARKS: [IndexModel([("child_id", ASCENDING), ("entry_id", ASCENDING)]), PENDING_INDEX]}
ORDER = [("occurred_at", ASCENDING), ("recorded_at", ASCENDING), ("_id", ASCENDING)]


def in_order(doc: mongo.Document) -> tuple[Any, ...]:
    """An entry document's place in `ORDER`, for sorting in Python."""
    return (doc["occurred_at"], doc["recorded_at"], doc["_id"])


class Timeline:
    """All of one child's entries that a view admits, oldest first (`ORDER`), from one read: the unfiltered
    page, its total, the corrections of its entries and which corrected entries the view holds are all worked
    out from it. As queries of their own, each of those read every one of the child's entries again: FerretDB
    1.24 pushes down only equality, and no limit beside a sort (BRIEF §5). Only the page's entries are
    validated."""

    def __init__(self, docs: list[mongo.Document]) -> None:
        docs.sort(key=in_order)
        self._docs = docs

    def __len__(self) -> int:
        return len(self._docs)

    def page(self, *, skip: int, limit: int) -> list[ChronologyEntry]:
        return [_from_doc(dict(d)) for d in self._docs[skip : skip + limit]]

    def corrections_of(self, entry_ids: Iterable[str]) -> dict[str, str]:
        """Entry id → the id of the entry that corrects it, among `entry_ids` (of two, the later)."""
        wanted = set(entry_ids)
        return {d["supersedes"]: d["_id"] for d in self._docs if d.get("supersedes") in wanted}

    def holding(self, ids: Iterable[str]) -> set[str]:
        """Which of these entry ids the timeline holds."""
        return {d["_id"] for d in self._docs}.intersection(ids)


class ChronologyStore(Protocol):
    """What the use cases need of chronology's storage: `MongoChronologyStore` here, an in-memory fake in the
    unit tests."""

    async def create_indexes(self) -> None: ...

    async def add_entries(self, docs: Sequence[mongo.Document]) -> mongo.AppendResult:
        """Append entry documents keyed by entry id (`<agency>:<event id>`, or an account event's id); one already stored is left as it is (idempotent)."""
        ...

    async def existing_ids(self, ids: Sequence[str]) -> set[str]:
        """Which of these entry ids are stored, whoever's child they are about."""
        ...

    async def timeline(self, *, child_id: str, family_only: bool) -> Timeline:
        """Every entry of the child the view admits (the family's: only those it may see), in one read."""
        ...

    async def page(
        self,
        *,
        child_id: str,
        query: ChronologyQuery,
        family_only: bool,
        limit: int,
        skip: int = 0,
    ) -> list[ChronologyEntry]:
        """A child's matching entries in time order (ties by when recorded), `skip` on, at most `limit`."""
        ...

    async def count(self, *, child_id: str, query: ChronologyQuery, family_only: bool) -> int:
        """How many of a child's entries match, in all."""
        ...

    async def corrections_of(
        self, *, child_id: str, entry_ids: Sequence[str], family_only: bool
    ) -> dict[str, str]:
        """Entry id → the id of the entry that corrects it, among `entry_ids` (of two, the later)."""
        ...

    async def family_visible_ids(self, *, child_id: str, ids: Sequence[str]) -> set[str]:
        """Which of these entries of the child the family may see."""
        ...

    async def entry(self, *, child_id: str, entry_id: str) -> ChronologyEntry | None: ...

    async def add_mark(self, doc: mongo.Document) -> None:
        """One atomic insert: the lead's mark and the event announcing it (published by the outbox relay)."""
        ...

    async def significance(self, *, child_id: str, entry_ids: Sequence[str] | None = None) -> dict[str, bool]:
        """Entry id → the lead's latest mark, for the entries the lead has marked."""
        ...

    async def redact_forum_post(self, *, child_id: str, post_id: str, summary: str) -> None:
        """Replace the words of every entry made from this forum post with `summary` (idempotent)."""
        ...


class MongoChronologyStore:
    """`view` is the generation of the entries to use (`shared.readmodel`): the served one in the service,
    a new one in a rebuild; without it, generation 0."""

    def __init__(self, db: AsyncDatabase[mongo.Document], view: ModelView | None = None) -> None:
        self._view = view or ModelView(db, 0)
        self.marks = db[MARKS]
        self._db = db

    @property
    def _entries(self) -> AsyncCollection[mongo.Document]:
        return self._view[ENTRIES]

    async def create_indexes(self) -> None:
        await mongo.ensure_indexes(self._view, ENTRY_INDEXES)
        await mongo.ensure_indexes(self._db, MARK_INDEXES)

    async def add_entries(self, docs: Sequence[mongo.Document]) -> mongo.AppendResult:
        """Append entry documents keyed by entry id (`<agency>:<event id>`, or an account event's id); one already stored is left as it is (idempotent)."""
        return await mongo.append_many(self._entries, docs)

    async def existing_ids(self, ids: Sequence[str]) -> set[str]:
        """Which of these entry ids are stored, whoever's child they are about."""
        return await mongo.ids_present(self._entries, ids)

    async def timeline(self, *, child_id: str, family_only: bool) -> Timeline:
        """Every entry of the child the view admits (the family's: only those it may see), in one read."""
        where = _where(child_id, ChronologyQuery(), family_only)
        return Timeline([d async for d in self._entries.find(where)])

    async def page(
        self,
        *,
        child_id: str,
        query: ChronologyQuery,
        family_only: bool,
        limit: int,
        skip: int = 0,
    ) -> list[ChronologyEntry]:
        where = await self._matching(child_id, query, family_only)
        cursor = self._entries.find(where).sort(ORDER).skip(skip).limit(limit)
        return [_from_doc(d) async for d in cursor]

    async def count(self, *, child_id: str, query: ChronologyQuery, family_only: bool) -> int:
        return await self._entries.count_documents(await self._matching(child_id, query, family_only))

    async def _matching(self, child_id: str, query: ChronologyQuery, family_only: bool) -> dict[str, Any]:
        where = _where(child_id, query, family_only)
        if query.significant_only:
            marked = await self.significance(child_id=child_id)
            on = [i for i, v in marked.items() if v]
            off = [i for i, v in marked.items() if not v]
            where["$or"] = [{"significant": True, "_id": {"$nin": off}}, {"_id": {"$in": on}}]
        return where

    async def corrections_of(
        self, *, child_id: str, entry_ids: Sequence[str], family_only: bool
    ) -> dict[str, str]:
        """Entry id → the id of the entry that corrects it, among `entry_ids` (of two, the later)."""
        where: dict[str, Any] = {"child_id": child_id, "supersedes": {"$in": list(entry_ids)}}
        if family_only:
            where["visibility"] = "family_visible"
        cursor = self._entries.find(where, {"_id": 1, "supersedes": 1}).sort(ORDER)
        return {d["supersedes"]: d["_id"] async for d in cursor}

    async def family_visible_ids(self, *, child_id: str, ids: Sequence[str]) -> set[str]:
        """Which of these entries of the child the family may see."""
        where = {"_id": {"$in": list(ids)}, "child_id": child_id, "visibility": "family_visible"}
        return {d["_id"] async for d in self._entries.find(where, {"_id": 1})}

    async def entry(self, *, child_id: str, entry_id: str) -> ChronologyEntry | None:
        doc = await self._entries.find_one({"_id": entry_id, "child_id": child_id})
        return _from_doc(doc) if doc else None

    async def add_mark(self, doc: mongo.Document) -> None:
        """One atomic insert: the lead's mark and the event announcing it (published by the outbox relay)."""
        await self.marks.insert_one(doc)

    async def significance(self, *, child_id: str, entry_ids: Sequence[str] | None = None) -> dict[str, bool]:
        """Entry id → the lead's latest mark, for the entries the lead has marked."""
        where: dict[str, Any] = {"child_id": child_id}
        if entry_ids is not None:
            where["entry_id"] = {"$in": list(entry_ids)}
        latest: dict[str, bool] = {}
        async for d in self.marks.find(where, {"entry_id": 1, "significant": 1}).sort(
            "written_at", ASCENDING
        ):
            latest[d["entry_id"]] = d["significant"]
        return latest

    async def redact_forum_post(self, *, child_id: str, post_id: str, summary: str) -> None:
        """Replace the words of every entry made from this forum post with `summary` (idempotent)."""
        await self._entries.update_many(
            {"child_id": child_id, "forum_post_id": post_id}, {"$set": {"summary": summary, "redacted": True}}
        )


def _where(child_id: str, query: ChronologyQuery, family_only: bool) -> dict[str, Any]:
    where: dict[str, Any] = {"child_id": child_id}
    if family_only:
        # The family view leaves restricted entries out of every read (BRIEF §3).
        where["visibility"] = "family_visible"
    when: dict[str, datetime] = {}
    if query.date_from:
        when["$gte"] = datetime.combine(query.date_from, time.min, UTC)
    if query.date_to:
        when["$lte"] = datetime.combine(query.date_to, time.max, UTC)
    if when:
        where["occurred_at"] = when
    if query.agencies and query.hide_sensitive_agencies:
        where["$and"] = [{"$or": _agency_clauses(query.agencies)}]
    elif query.agencies:
        where["agency"] = {"$in": query.agencies}
    if query.kinds:
        # A contact's entry has no `kind` (defaults are not stored, see models.entry_document).
        others = [k for k in ("account", "forum") if k not in query.kinds]
        where["kind"] = {"$nin": others} if "contact" in query.kinds else {"$in": list(query.kinds)}
    if query.contact_types:
        where["contact_type"] = {"$in": list(query.contact_types)}
    return where


def _agency_clauses(agencies: Sequence[str]) -> list[dict[str, Any]]:
    """An agency filter for a reader who may not see sensitive providers: the agency's own entries less its
    hidden ones (account entries keep their source), and the hidden ones under the neutral label only."""
    named = [a for a in agencies if a != HIDDEN_PROVIDER]
    clauses: list[dict[str, Any]] = [{"_id": {"$in": []}}]  # matches nothing, when nothing else is asked
    if named:
        clauses.append({"agency": {"$in": named}, "sensitive_service": {"$ne": True}})
        clauses.append({"agency": {"$in": named}, "kind": "account"})
    if HIDDEN_PROVIDER in agencies:
        clauses.append({"sensitive_service": True, "kind": {"$ne": "account"}})
    return clauses


def _from_doc(doc: mongo.Document) -> ChronologyEntry:
    doc["id"] = doc.pop("_id")
    return ChronologyEntry.model_validate(doc)
