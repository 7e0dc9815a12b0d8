"""The scale history's HTTP route: thin; it checks access through the shared guard (which audits the read)
and calls one use case."""

from __future__ import annotations

from fastapi import APIRouter

from analytics.deps import AnalyticsDep, ChildId
from analytics.scales import service
from analytics.scales.models import SafetyScales
from shared.auth import PrincipalDep

router = APIRouter(tags=["safety scales"])


@router.get("/children/{child_id}/safety-scales", response_model=SafetyScales)
async def get_safety_scales(child_id: ChildId, principal: PrincipalDep, ctx: AnalyticsDep) -> SafetyScales:
    """Every participant's safety scale over time, one line each. The family sees the scales recorded where
    they can see them (their own, and the practitioners' who shared theirs with the family)."""
    decision = await ctx.guard.check(principal, "read_forum", child_id, detail="safety scales")
    return await service.safety_scales(
        store=ctx.scales,
        child_id=child_id,
        family_view=decision.family_view,
        see_sensitive_providers=decision.see_sensitive_providers,
    )
