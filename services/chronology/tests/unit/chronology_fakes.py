"""An in-memory `ChronologyStore` with the Mongo store's semantics: filters, order, skip/limit, idempotent
appends keyed by event id, and the lead's latest mark winning.

Documents are kept in their stored form (defaults left out, as `entry_document` writes them), so a missing
field matches a filter exactly as it does on the server: absent `visibility` is not `family_visible`, absent
`kind` is not `account`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time
from typing import Any

from pymongo.errors import DuplicateKeyError

from chronology.models import HIDDEN_PROVIDER, ChronologyEntry, ChronologyQuery
from chronology.store import Timeline, in_order
from shared.mongo import AppendResult, Document
from testsupport.memory import append_by_id, stored_form


class FakeChronologyStore:
    def __init__(self) -> None:
        self.entries: dict[str, Document] = {}  # by `_id`, in insertion order
        self.marks: list[Document] = []  # the lead's marks, each with its outbox event

    async def create_indexes(self) -> None:
        pass

    async def add_entries(self, docs: Sequence[Document]) -> AppendResult:
        return append_by_id(self.entries, docs)

    async def existing_ids(self, ids: Sequence[str]) -> set[str]:
        return {i for i in ids if i in self.entries}

    async def timeline(self, *, child_id: str, family_only: bool) -> Timeline:
        admitted = [d for d in self.entries.values() if _matches(d, child_id, ChronologyQuery(), family_only)]
        return Timeline(stored_form(admitted))

    async def page(
        self,
        *,
        child_id: str,
        query: ChronologyQuery,
        family_only: bool,
        limit: int,
        skip: int = 0,
    ) -> list[ChronologyEntry]:
        found = await self._matching(child_id, query, family_only)
        return [_entry(d) for d in found[skip : skip + limit]]

    async def count(self, *, child_id: str, query: ChronologyQuery, family_only: bool) -> int:
        return len(await self._matching(child_id, query, family_only))

    async def _matching(self, child_id: str, query: ChronologyQuery, family_only: bool) -> list[Document]:
        marked = await self.significance(child_id=child_id) if query.significant_only else {}
        found = [
            d
            for d in self.entries.values()
            if _matches(d, child_id, query, family_only) and _significant(d, query, marked)
        ]
        found.sort(key=in_order)
        return found

    async def corrections_of(
        self, *, child_id: str, entry_ids: Sequence[str], family_only: bool
    ) -> dict[str, str]:
        return {
            d["supersedes"]: d["_id"]
            for d in sorted(self.entries.values(), key=in_order)
            if d["child_id"] == child_id
            and d.get("supersedes") in entry_ids
            and (not family_only or d.get("visibility") == "family_visible")
        }

    async def family_visible_ids(self, *, child_id: str, ids: Sequence[str]) -> set[str]:
        return {
            i
            for i in ids
            if (d := self.entries.get(i)) is not None
            and d["child_id"] == child_id
            and d.get("visibility") == "family_visible"
        }

    async def entry(self, *, child_id: str, entry_id: str) -> ChronologyEntry | None:
        doc = self.entries.get(entry_id)
        return _entry(doc) if doc is not None and doc["child_id"] == child_id else None

    async def add_mark(self, doc: Document) -> None:
        if any(m["_id"] == doc["_id"] for m in self.marks):
            raise DuplicateKeyError(f"duplicate key: {doc['_id']}")
        self.marks.append(stored_form(doc))

    async def significance(self, *, child_id: str, entry_ids: Sequence[str] | None = None) -> dict[str, bool]:
        latest: dict[str, bool] = {}
        for mark in sorted(self.marks, key=lambda m: m["written_at"]):
            if mark["child_id"] == child_id and (entry_ids is None or mark["entry_id"] in entry_ids):
                latest[mark["entry_id"]] = mark["significant"]
        return latest

    async def redact_forum_post(self, *, child_id: str, post_id: str, summary: str) -> None:
        for doc in self.entries.values():
            if doc["child_id"] == child_id and doc.get("forum_post_id") == post_id:
                doc.update(summary=summary, redacted=True)


def _matches(doc: Document, child_id: str, query: ChronologyQuery, family_only: bool) -> bool:
    when = doc["occurred_at"]
    kind = doc.get("kind")
    return (
        doc["child_id"] == child_id
        and (not family_only or doc.get("visibility") == "family_visible")
        and (query.date_from is None or when >= datetime.combine(query.date_from, time.min, UTC))
        and (query.date_to is None or when <= datetime.combine(query.date_to, time.max, UTC))
        and _agency_matches(doc, query)
        and (not query.kinds or (kind or "contact") in query.kinds)
        and (not query.contact_types or doc["contact_type"] in query.contact_types)
    )


def _agency_matches(doc: Document, query: ChronologyQuery) -> bool:
    if not query.agencies:
        return True
    if not query.hide_sensitive_agencies:
        return doc["agency"] in query.agencies
    if doc.get("sensitive_service") is True and doc.get("kind") != "account":
        return HIDDEN_PROVIDER in query.agencies
    return doc["agency"] in query.agencies and doc["agency"] != HIDDEN_PROVIDER


def _significant(doc: Document, query: ChronologyQuery, marked: dict[str, bool]) -> bool:
    """The lead's mark, where there is one, over the agency's own flag."""
    if not query.significant_only:
        return True
    return marked.get(doc["_id"], doc.get("significant") is True)


def _entry(doc: Document) -> ChronologyEntry:
    data: dict[str, Any] = {k: v for k, v in stored_form(doc).items() if k != "_id"}
    return ChronologyEntry.model_validate({**data, "id": doc["_id"]})
