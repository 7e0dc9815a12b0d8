"""Analytics' HTTP routes: thin, each calls one service function."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from analytics import service
from analytics.models import ContactGraph, Granularity
from analytics.store import AnalyticsStore

ChildId = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")]


def router(store: AnalyticsStore) -> APIRouter:
    api = APIRouter(tags=["analytics"])

    @api.get("/children/{child_id}/contact-graph", response_model=ContactGraph)
    async def get_contact_graph(
        child_id: ChildId, granularity: Annotated[Granularity, Query()] = "week"
    ) -> ContactGraph:
        """Agency contacts over time for the child's line graph."""
        return await service.contact_graph(store=store, child_id=child_id, granularity=granularity)

    return api
