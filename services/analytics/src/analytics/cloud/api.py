"""The cloud's HTTP routes: thin; each checks access through the shared guard (which audits the read) and calls
one use case."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from analytics.cloud import service
from analytics.cloud.models import KeywordCloud, KeywordEntries
from analytics.deps import Analytics, AnalyticsDep, ChildId
from analytics.pictures import SVG_RESPONSES, svg_response
from shared.auth import Principal, PrincipalDep
from shared.charts.cloud import cloud_picture
from shared.charts.svg import cloud_svg
from shared.policy import Decision
from shared.text import Line

router = APIRouter(tags=["keyword cloud"])


@router.get("/children/{child_id}/keyword-cloud", response_model=KeywordCloud)
async def get_keyword_cloud(child_id: ChildId, principal: PrincipalDep, ctx: AnalyticsDep) -> KeywordCloud:
    """The words that come up most often in the child's case. The family's cloud is built from what the family
    may see only, so a restricted entry's words never reach it; nobody's name is in either."""
    return await readers_cloud(ctx, principal, child_id, detail="keyword cloud")


@router.get("/children/{child_id}/keyword-cloud/entries", response_model=KeywordEntries)
async def get_keyword_entries(
    child_id: ChildId,
    principal: PrincipalDep,
    ctx: AnalyticsDep,
    term: Annotated[Line, Query(min_length=1, max_length=200, description="A word from the cloud.")],
) -> KeywordEntries:
    """The entries a word of the cloud came up in, as far as the reader may see them."""
    decision = await ctx.guard.check(principal, "read_cloud", child_id, detail=f"keyword entries: {term}")
    return await service.entries_with(
        store=ctx.cloud,
        child_id=child_id,
        term=term,
        view="family" if decision.family_view else "full",
        see_sensitive_providers=decision.see_sensitive_providers,
    )


@router.get("/children/{child_id}/keyword-cloud.svg", response_class=Response, responses=SVG_RESPONSES)
async def get_keyword_cloud_svg(child_id: ChildId, principal: PrincipalDep, ctx: AnalyticsDep) -> Response:
    """The reader's keyword cloud as a picture: the same words as the JSON cloud, sized as the page sizes them."""
    cloud = await readers_cloud(ctx, principal, child_id, detail="keyword cloud (SVG)")
    terms = [(t.term, t.documents) for t in cloud.terms]
    return svg_response(cloud_svg(cloud_picture(terms, documents=cloud.documents)))


async def readers_cloud(ctx: Analytics, principal: Principal, child_id: str, *, detail: str) -> KeywordCloud:
    """The cloud as this reader may see it, once the guard has allowed and audited the read."""

    async def fetch(decision: Decision) -> KeywordCloud:
        return await service.keyword_cloud(
            store=ctx.cloud,
            access=await ctx.guard.access(child_id),
            child_id=child_id,
            view="family" if decision.family_view else "full",
        )

    return await ctx.guard.read(principal, "read_cloud", child_id, fetch, detail=detail)
