"""Analytics use cases: count contacts into the graph read model; read a child's contact graph."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import date

from analytics.models import (
    AgencySeries,
    AskedGranularity,
    ContactGraph,
    period_start,
    periods_between,
    point_document,
    resolve_granularity,
)
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
    granularity: AskedGranularity,
    family_view: bool = False,
    see_sensitive_providers: bool = False,
) -> ContactGraph:
    """Contacts per agency per day, week or month ("auto": weeks for about six months, then months), each
    series in time order, a correction counted in place of what it corrects.

    A sensitive service's contacts are counted, under the policy's neutral label, for a reader who may not
    see such providers: left out, the line would disagree with the chronology, which shows the same entries
    under that label; as their agency's own series (or in it), the graph would say which agency they are."""
    points = await store.points(child_id=child_id, family_view=family_view)
    corrected = {p["supersedes"] for p in points if p.get("supersedes")}
    current = [(p, date.fromisoformat(p["day"])) for p in points if p["_id"] not in corrected]
    days = [day for _, day in current]
    resolved = resolve_granularity(granularity, min(days, default=None), max(days, default=None))
    by_agency: dict[str, Counter[str]] = defaultdict(Counter)
    for point, day in current:
        series_name = (
            HIDDEN_PROVIDER
            if point.get("sensitive_service") and not see_sensitive_providers
            else point["agency"]
        )
        by_agency[series_name][period_start(day, resolved).isoformat()] += 1
    series = [
        AgencySeries(agency=a, points=sorted(points.items())) for a, points in sorted(by_agency.items())
    ]
    return ContactGraph(
        child_id=child_id,
        granularity=resolved,
        total=len(current),
        periods=periods_between(min(days), max(days), resolved) if days else [],
        series=series,
    )
