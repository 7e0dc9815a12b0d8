"""Analytics use cases: count contacts into the graph read model; read a child's contact graph."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from analytics.models import AgencySeries, ContactGraph, Granularity, point_document
from analytics.store import AnalyticsStore
from shared.contact_feed import ChildContact, refuse_foreign_corrections


async def record_contacts(*, store: AnalyticsStore, contacts: Sequence[ChildContact]) -> int:
    """Count each agency contact once in its child's graph; returns how many were new. A correction of another
    agency's event is refused as chronology refuses it (`ForeignCorrection`, dead-lettered), so the graph never
    counts what the chronology does not hold."""
    await refuse_foreign_corrections(contacts, store.existing_ids)
    result = await store.add_points([point_document(c.event, child_id=c.child_id) for c in contacts])
    return result.inserted


async def contact_graph(
    *, store: AnalyticsStore, child_id: str, granularity: Granularity, family_view: bool = False
) -> ContactGraph:
    """Contacts per agency per day or week, each series in time order."""
    by_agency: dict[str, list[tuple[str, int]]] = defaultdict(list)
    total = 0
    for agency, period, n in await store.counts(
        child_id=child_id, granularity=granularity, family_view=family_view
    ):
        by_agency[agency].append((period, n))
        total += n
    series = [AgencySeries(agency=a, points=sorted(points)) for a, points in sorted(by_agency.items())]
    return ContactGraph(child_id=child_id, granularity=granularity, total=total, series=series)
