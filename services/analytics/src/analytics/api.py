"""Analytics' HTTP routes: thin; each checks access through the shared guard and calls one service function."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from analytics import service
from analytics.deps import Analytics, AnalyticsDep, ChildId
from analytics.models import AskedGranularity, ContactGraph
from analytics.pictures import SVG_RESPONSES, svg_response
from shared.auth import Principal, PrincipalDep
from shared.charts.contacts import contact_chart
from shared.charts.svg import contact_svg

router = APIRouter(tags=["analytics"])
GranularityQuery = Annotated[
    AskedGranularity, Query(description="day, week or month; auto chooses weeks or months for the span")
]


@router.get("/children/{child_id}/contact-graph", response_model=ContactGraph)
async def get_contact_graph(
    child_id: ChildId,
    principal: PrincipalDep,
    ctx: AnalyticsDep,
    granularity: GranularityQuery = "auto",
) -> ContactGraph:
    """Agency contacts over time for the child's line graph; the family's graph leaves restricted
    contacts out, so a restricted entry cannot be inferred from a bump in the line, and a sensitive service's
    contacts form one neutral series for whoever may not see such providers."""
    return await readers_graph(ctx, principal, child_id, granularity=granularity)


@router.get("/children/{child_id}/contact-graph.svg", response_class=Response, responses=SVG_RESPONSES)
async def get_contact_graph_svg(
    child_id: ChildId, principal: PrincipalDep, ctx: AnalyticsDep, granularity: GranularityQuery = "auto"
) -> Response:
    """The contact graph drawn as the child's page draws it (stacked columns, with its key), as SVG; the same
    view of the contacts as the JSON graph gives this reader."""
    graph = await readers_graph(
        ctx, principal, child_id, granularity=granularity, detail="contact graph (SVG)"
    )
    return svg_response(contact_svg(contact_chart(graph), standalone=True))


async def readers_graph(
    ctx: Analytics,
    principal: Principal,
    child_id: str,
    *,
    granularity: AskedGranularity,
    detail: str | None = None,
) -> ContactGraph:
    """The graph as this reader may see it, once the guard has allowed and audited the read."""
    return await ctx.guard.read(
        principal,
        "read_graph",
        child_id,
        lambda decision: service.contact_graph(
            store=ctx.store,
            child_id=child_id,
            granularity=granularity,
            family_view=decision.family_view,
            see_sensitive_providers=decision.see_sensitive_providers,
        ),
        detail=detail,
    )
