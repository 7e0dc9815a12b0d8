"""In-memory stores with the Mongo stores' semantics, and YAKE inline. The graph's: one point per event id,
counted per agency and per day or week, the family's counts without restricted contacts. The cloud's: one
document per event id, and the clouds as last rebuilt."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from analytics.cloud.keywords import Keywords, extract_batch
from analytics.cloud.models import CloudView
from analytics.cloud.store import cloud_id
from analytics.models import Granularity
from shared.mongo import AppendResult, Document
from testsupport.memory import append_by_id


class FakeAnalyticsStore:
    def __init__(self) -> None:
        self.points: dict[str, Document] = {}  # by `_id`: `<agency>:<event id>`

    async def create_indexes(self) -> None:
        pass

    async def add_points(self, docs: Sequence[Document]) -> AppendResult:
        return append_by_id(self.points, docs)

    async def existing_ids(self, ids: Sequence[str]) -> set[str]:
        return {i for i in ids if i in self.points}

    async def counts(
        self, *, child_id: str, granularity: Granularity, family_view: bool
    ) -> list[tuple[str, bool, str, int]]:
        counted = Counter(
            (p["agency"], p.get("sensitive_service") is True, p[granularity])
            for p in self.points.values()
            if p["child_id"] == child_id and (not family_view or p.get("visibility") == "family_visible")
        )
        return [(agency, sensitive, period, n) for (agency, sensitive, period), n in counted.items()]


class FakeCloudStore:
    """The cloud's storage in memory: documents by id, clouds by `cloud_id`."""

    def __init__(self) -> None:
        self.documents: dict[str, Document] = {}
        self.clouds: dict[str, Document] = {}

    async def create_indexes(self) -> None:
        pass

    async def add_documents(self, docs: Sequence[Document]) -> AppendResult:
        return append_by_id(self.documents, docs)

    async def existing_ids(self, ids: Sequence[str]) -> set[str]:
        return {i for i in ids if i in self.documents}

    async def documents_of(self, child_ids: Sequence[str]) -> list[Document]:
        return [dict(d) for d in self.documents.values() if d["child_id"] in child_ids]

    async def save_clouds(self, clouds: Mapping[str, Document]) -> None:
        for key, cloud in clouds.items():
            self.clouds[key] = {"_id": key, **self.clouds.get(key, {}), **cloud}

    async def cloud(self, child_id: str, view: CloudView) -> Document | None:
        return self.clouds.get(cloud_id(child_id, view))


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
