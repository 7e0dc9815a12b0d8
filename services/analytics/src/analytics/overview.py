"""The child's page's part from analytics in one read: the contact graph, the keyword cloud and the scales.

The page needs all three; asking for them apart cost two more requests per page (each authenticated, parsed
and answered on its own). Each is still decided and audited as its own access, concurrently, and a part the
reader is refused is left out with the reason, as three separate requests would have answered; refused all
three, the reader gets the 403 each would have."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

from fastapi import APIRouter
from pydantic import BaseModel, Field

from analytics.api import GranularityQuery, readers_graph
from analytics.cloud.api import readers_cloud
from analytics.cloud.models import KeywordCloud
from analytics.deps import AnalyticsDep, ChildId
from analytics.models import ContactGraph
from analytics.scales.api import readers_scales
from analytics.scales.models import SafetyScales
from shared.auth import PrincipalDep
from shared.errors import AccessRefused

router = APIRouter(tags=["analytics"])
T = TypeVar("T")


class AnalyticsOverview(BaseModel):
    graph: ContactGraph | None = Field(default=None, description="The contact graph; null when refused.")
    graph_refused: str | None = Field(default=None, description="Why the graph is not shown, if not.")
    cloud: KeywordCloud | None = Field(default=None, description="The keyword cloud; null when refused.")
    cloud_refused: str | None = Field(default=None, description="Why the cloud is not shown, if not.")
    scales: SafetyScales | None = Field(default=None, description="The safety scales; null when refused.")
    scales_refused: str | None = Field(default=None, description="Why the scales are not shown, if not.")


@router.get("/children/{child_id}/overview", response_model=AnalyticsOverview)
async def get_overview(
    child_id: ChildId, principal: PrincipalDep, ctx: AnalyticsDep, granularity: GranularityQuery = "auto"
) -> AnalyticsOverview:
    """The contact graph, the keyword cloud and the safety scales in one read (what the child's page shows
    from analytics); each audited as its own access, and each left out, with the reason, if refused."""
    (graph, graph_refused), (cloud, cloud_refused), (scales, scales_refused) = await asyncio.gather(
        _part(readers_graph(ctx, principal, child_id, granularity=granularity)),
        _part(readers_cloud(ctx, principal, child_id, detail="keyword cloud")),
        _part(readers_scales(ctx, principal, child_id, detail="safety scales")),
    )
    if graph_refused and cloud_refused and scales_refused:
        raise AccessRefused(graph_refused)  # nothing to read here at all: a refusal, as each route gives
    return AnalyticsOverview(
        graph=graph,
        graph_refused=graph_refused,
        cloud=cloud,
        cloud_refused=cloud_refused,
        scales=scales,
        scales_refused=scales_refused,
    )


async def _part(read: Awaitable[T]) -> tuple[T | None, str | None]:
    """A part and no reason, or no part and the policy's reason; any other failure fails the whole read."""
    try:
        return await read, None
    except AccessRefused as refused:
        return None, str(refused)
