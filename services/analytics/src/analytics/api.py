"""Analytics' HTTP routes: thin; each checks access through the shared guard and calls one service function."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from analytics import service
from analytics.deps import AnalyticsDep, ChildId
from analytics.models import ContactGraph, Granularity
from shared.auth import PrincipalDep

router = APIRouter(tags=["analytics"])


@router.get("/children/{child_id}/contact-graph", response_model=ContactGraph)
async def get_contact_graph(
    child_id: ChildId,
    principal: PrincipalDep,
    ctx: AnalyticsDep,
    granularity: Annotated[Granularity, Query()] = "week",
) -> ContactGraph:
    """Agency contacts over time for the child's line graph; the family's graph leaves restricted
    contacts out, so a restricted entry cannot be inferred from a bump in the line, and a sensitive service's
    contacts form one neutral series for whoever may not see such providers."""
    decision = await ctx.guard.check(principal, "read_graph", child_id)
    return await service.contact_graph(
        store=ctx.store,
        child_id=child_id,
        granularity=granularity,
        family_view=decision.family_view,
        see_sensitive_providers=decision.see_sensitive_providers,
    )
