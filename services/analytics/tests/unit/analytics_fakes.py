"""An in-memory `AnalyticsStore` with the Mongo store's semantics: one point per event id, counted per agency
and per day or week, the family's counts without restricted contacts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

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
