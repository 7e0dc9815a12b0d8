"""In-memory stores with the Mongo stores' semantics, and YAKE inline. The graph's: one point per event id,
counted per agency and per day or week, the family's counts without restricted contacts. The cloud's: one
document per event id (a post's by post id, at its latest version), and the clouds as last rebuilt. The
scales': one document per scale id."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from analytics.cloud.keywords import Keywords, extract_batch
from analytics.cloud.models import CloudState, CloudView
from analytics.cloud.store import Cloud, cloud_document, served
from shared.mongo import AppendResult, Document
from testsupport.memory import append_by_id, stored_form


class FakeAnalyticsStore:
    def __init__(self) -> None:
        self.stored: dict[str, Document] = {}  # by `_id`: `<agency>:<event id>`

    async def create_indexes(self) -> None:
        pass

    async def add_points(self, docs: Sequence[Document]) -> AppendResult:
        return append_by_id(self.stored, docs)

    async def existing_ids(self, ids: Sequence[str]) -> set[str]:
        return {i for i in ids if i in self.stored}

    async def points(self, *, child_id: str, family_view: bool) -> list[Document]:
        fields = ("_id", "agency", "day", "sensitive_service", "supersedes")
        return [
            {k: p[k] for k in fields if k in p}
            for p in self.stored.values()
            if p["child_id"] == child_id and (not family_view or p.get("visibility") == "family_visible")
        ]


class FakeCloudStore:
    """The cloud's storage in memory: documents by id, each child's clouds by child id."""

    def __init__(self) -> None:
        self.documents: dict[str, Document] = {}
        self.clouds: dict[str, Document] = {}

    async def create_indexes(self) -> None:
        pass

    async def add_documents(self, docs: Sequence[Document]) -> AppendResult:
        return append_by_id(self.documents, docs)

    async def existing_ids(self, ids: Sequence[str]) -> set[str]:
        return {i for i in ids if i in self.documents}

    async def kept_documents(self, ids: Sequence[str]) -> dict[str, Document]:
        return {i: dict(self.documents[i]) for i in ids if i in self.documents}

    async def documents_of(self, child_ids: Sequence[str]) -> list[Document]:
        return [dict(d) for d in self.documents.values() if d["child_id"] in child_ids]

    async def put_documents(self, docs: Mapping[str, Document]) -> None:
        for key, doc in docs.items():
            self.documents[key] = stored_form({**self.documents.get(key, {}), **doc, "_id": key})

    async def states(self, child_ids: Sequence[str]) -> dict[str, CloudState]:
        stored = {c: self.clouds[c] for c in child_ids if c in self.clouds}
        return {
            c: CloudState.decode(d["state"], d["revision"]) if (d := stored.get(c)) else CloudState()
            for c in child_ids
        }

    async def save_clouds(self, child_id: str, state: CloudState, clouds: Mapping[CloudView, Cloud]) -> bool:
        if self.clouds.get(child_id, {}).get("revision", 0) != state.revision:
            return False
        self.clouds[child_id] = stored_form(
            {"_id": child_id, "child_id": child_id, **cloud_document(state.text, state.revision + 1, clouds)}
        )
        return True

    async def cloud(self, child_id: str, view: CloudView) -> Cloud | None:
        return served(self.clouds.get(child_id), view)


class FakeScaleStore:
    """The scale history in memory: one document per scale id."""

    def __init__(self) -> None:
        self.stored: dict[str, Document] = {}

    async def create_indexes(self) -> None:
        pass

    async def add_scales(self, docs: Sequence[Document]) -> AppendResult:
        return append_by_id(self.stored, docs)

    async def scales(self, *, child_id: str, family_view: bool) -> list[Document]:
        found = [
            dict(d)
            for d in self.stored.values()
            if d["child_id"] == child_id and (not family_view or d["audience"] == "family")
        ]
        return sorted(found, key=lambda d: (d["at"], d["_id"]))


class InlineKeywords:
    """YAKE run in the test's own process: the same extraction, without starting a pool of workers."""

    def __init__(self) -> None:
        self.batches: list[int] = []

    async def start(self) -> None:
        pass

    async def extract(self, texts: Sequence[str]) -> list[Keywords]:
        self.batches.append(len(texts))
        return extract_batch(texts)

    async def stop(self) -> None:
        pass
