"""Analytics' HTTP routes: thin; each checks access through the shared guard and calls one service function."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from analytics import service
from analytics.models import ContactGraph, Granularity
from analytics.store import AnalyticsStore
from shared.auth import PrincipalDep
from shared.guard import Guard

ChildId = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")]


def router(store: AnalyticsStore, guard: Guard) -> APIRouter:
    api = APIRouter(tags=["analytics"])

    @api.get("/children/{child_id}/contact-graph", response_model=ContactGraph)
    async def get_contact_graph(
        child_id: ChildId, principal: PrincipalDep, granularity: Annotated[Granularity, Query()] = "week"
    ) -> ContactGraph:
        """Agency contacts over time for the child's line graph; the family's graph leaves restricted
        contacts out, so a restricted entry cannot be inferred from a bump in the line."""
        decision = await guard.check(principal, "read_graph", child_id)
        return await service.contact_graph(
            store=store, child_id=child_id, granularity=granularity, family_view=decision.family_view
        )

    return api
