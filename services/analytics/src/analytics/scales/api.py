"""The scale history's HTTP route: thin; it checks access through the shared guard (which audits the read)
and calls one use case."""

from __future__ import annotations

from fastapi import APIRouter, Response

from analytics.deps import Analytics, AnalyticsDep, ChildId
from analytics.pictures import SVG_RESPONSES, svg_response
from analytics.scales import service
from analytics.scales.models import SafetyScales
from shared.auth import Principal, PrincipalDep
from shared.charts.scales import scale_chart
from shared.charts.svg import scale_svg

router = APIRouter(tags=["safety scales"])


@router.get("/children/{child_id}/safety-scales", response_model=SafetyScales)
async def get_safety_scales(child_id: ChildId, principal: PrincipalDep, ctx: AnalyticsDep) -> SafetyScales:
    """Every participant's safety scale over time, one line each. The family sees the scales recorded where
    they can see them (their own, and the practitioners' who shared theirs with the family); for a shielded
    child, other practitioners' lines are not named to those who may not see where the child is."""
    return await readers_scales(ctx, principal, child_id, detail="safety scales")


@router.get("/children/{child_id}/safety-scales.svg", response_class=Response, responses=SVG_RESPONSES)
async def get_safety_scales_svg(child_id: ChildId, principal: PrincipalDep, ctx: AnalyticsDep) -> Response:
    """The same scales drawn as the child's page draws them: one line per participant, with its key."""
    scales = await readers_scales(ctx, principal, child_id, detail="safety scales (SVG)")
    return svg_response(scale_svg(scale_chart(scales.lines), standalone=True))


async def readers_scales(ctx: Analytics, principal: Principal, child_id: str, *, detail: str) -> SafetyScales:
    """The scales as this reader may see them, once the guard has allowed and audited the read."""
    return await ctx.guard.read(
        principal,
        "read_forum",
        child_id,
        lambda decision: service.safety_scales(
            store=ctx.scales,
            child_id=child_id,
            family_view=decision.family_view,
            see_sensitive_providers=decision.see_sensitive_providers,
            see_location=decision.see_address,
            reader_id=principal.subject,
        ),
        detail=detail,
    )
