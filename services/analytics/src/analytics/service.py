"""Analytics use cases: count contacts into the graph read model; read a child's contact graph."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

from analytics.models import AgencySeries, ContactGraph, Granularity, point_document
from analytics.store import AnalyticsStore
from shared.contact_feed import ChildContact, refuse_foreign_corrections
from shared.policy import HIDDEN_PROVIDER


async def record_contacts(*, store: AnalyticsStore, contacts: Sequence[ChildContact]) -> int:
    """Count each agency contact once in its child's graph; returns how many were new. A correction of another
    agency's event is refused as chronology refuses it (`ForeignCorrection`, dead-lettered), so the graph never
    counts what the chronology does not hold."""
    await refuse_foreign_corrections(contacts, store.existing_ids)
    result = await store.add_points([point_document(c.event, child_id=c.child_id) for c in contacts])
    return result.inserted


async def contact_graph(
    *,
    store: AnalyticsStore,
    child_id: str,
    granularity: Granularity,
    family_view: bool = False,
    see_sensitive_providers: bool = False,
) -> ContactGraph:
    """Contacts per agency per day or week, each series in time order.

    A sensitive service's contacts are counted, under the policy's neutral label, for a reader who may not
    see such providers: left out, the line would disagree with the chronology, which shows the same entries
    under that label; as their agency's own series (or in it), the graph would say which agency they are."""
    by_agency: dict[str, Counter[str]] = defaultdict(Counter)
    total = 0
    for agency, sensitive, period, n in await store.counts(
        child_id=child_id, granularity=granularity, family_view=family_view
    ):
        series_name = HIDDEN_PROVIDER if sensitive and not see_sensitive_providers else agency
        by_agency[series_name][period] += n
        total += n
    series = [
        AgencySeries(agency=a, points=sorted(points.items())) for a, points in sorted(by_agency.items())
    ]
    return ContactGraph(child_id=child_id, granularity=granularity, total=total, series=series)
