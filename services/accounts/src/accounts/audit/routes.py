"""Audit routes: who viewed a child's record, and the audit log for auditors."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from accounts.audit import service
from accounts.audit.models import AuditEntry, Viewer
from accounts.deps import AccountsDep, Id
from shared.auth import PrincipalDep
from shared.text import Line

router = APIRouter(tags=["audit"])


@router.get("/children/{child_id}/viewers", response_model=list[Viewer])
async def list_viewers(child_id: Id, principal: PrincipalDep, ctx: AccountsDep) -> list[Viewer]:
    """Who has viewed the child's record, most recent first."""
    return await service.viewers(ctx=ctx, principal=principal, child_id=child_id)


@router.get("/audit", response_model=list[AuditEntry])
async def query_audit(
    principal: PrincipalDep,
    ctx: AccountsDep,
    child_id: Annotated[Line | None, Query(max_length=100)] = None,
    actor_id: Annotated[Line | None, Query(max_length=200)] = None,
    action: Annotated[Line | None, Query(max_length=100)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AuditEntry]:
    """The access log by child, person, time and action, newest first (auditors)."""
    return await service.audit_log(
        ctx=ctx,
        principal=principal,
        child_id=child_id,
        actor_id=actor_id,
        action=action,
        since=since,
        until=until,
        limit=limit,
    )
