"""Chronology's HTTP routes: thin; each checks access through the shared guard and calls one service function."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, PlainTextResponse

from chronology import export, service
from chronology.deps import ChildId, Chronology, ChronologyDep, EntryId
from chronology.models import (
    ChronologyEntry,
    ChronologyPage,
    ChronologyQuery,
    EntryKind,
    Lens,
    SignificanceChange,
)
from shared.auth import PrincipalDep
from shared.contracts.contacts import ContactType
from shared.errors import InvalidRequest
from shared.policy import Decision
from shared.text import Line

EXPORT_LIMIT = 20_000
router = APIRouter(tags=["chronology"])


def _query(
    date_from: date | None,
    date_to: date | None,
    agency: list[str] | None,
    contact_type: list[ContactType] | None,
    significant_only: bool,
    kind: list[EntryKind] | None = None,
) -> ChronologyQuery:
    if date_from and date_to and date_to < date_from:
        raise InvalidRequest("date_to is before date_from")
    return ChronologyQuery(
        date_from=date_from,
        date_to=date_to,
        agencies=agency or [],
        contact_types=contact_type or [],
        significant_only=significant_only,
        kinds=kind or [],
    )


def _lens(decision: Decision) -> Lens:
    return Lens(
        family_view=decision.family_view,
        see_sensitive_providers=decision.see_sensitive_providers,
        see_location=decision.see_address,
    )


@router.get("/children/{child_id}/chronology", response_model=ChronologyPage)
async def get_chronology(
    child_id: ChildId,
    principal: PrincipalDep,
    ctx: ChronologyDep,
    date_from: Annotated[date | None, Query(description="On or after this day")] = None,
    date_to: Annotated[date | None, Query(description="On or before this day")] = None,
    agency: Annotated[list[Line] | None, Query(max_length=20)] = None,
    contact_type: Annotated[list[ContactType] | None, Query()] = None,
    significant_only: bool = False,
    kind: Annotated[list[EntryKind] | None, Query(description="contact (from agencies) or account")] = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = 100,
    cursor: Annotated[Line | None, Query(max_length=20)] = None,
) -> ChronologyPage:
    """A page of the child's chronology, oldest first, as the reader may see it; pass `next_cursor` back."""
    query = _query(date_from, date_to, agency, contact_type, significant_only, kind)
    return await ctx.guard.read(
        principal,
        "read_chronology",
        child_id,
        lambda decision: service.read_chronology(
            store=ctx.store, child_id=child_id, lens=_lens(decision), query=query, limit=limit, cursor=cursor
        ),
    )


@router.put("/children/{child_id}/chronology/{entry_id}/significance", response_model=ChronologyEntry)
async def put_significance(
    child_id: ChildId,
    entry_id: EntryId,
    change: SignificanceChange,
    principal: PrincipalDep,
    ctx: ChronologyDep,
) -> ChronologyEntry:
    """The lead marks an entry as a significant event, or unmarks it, with a reason."""
    decision = await ctx.guard.check(principal, "mark_significance", child_id, purpose=change.reason)
    await service.mark_significance(
        store=ctx.store,
        topics=ctx.topics,
        child_id=child_id,
        entry_id=entry_id,
        significant=change.significant,
        reason=change.reason,
        by=principal,
    )
    ctx.notify_outbox()
    entry = await service.read_entry(
        store=ctx.store, child_id=child_id, entry_id=entry_id, lens=_lens(decision)
    )
    if entry is None:
        raise service.EntryNotFound(f"there is no entry {entry_id} in this child's chronology")
    return entry


async def _everything(ctx: Chronology, child_id: str, decision: Decision) -> list[ChronologyEntry]:
    page = await service.read_chronology(
        store=ctx.store, child_id=child_id, lens=_lens(decision), limit=EXPORT_LIMIT
    )
    return page.entries


@router.get("/children/{child_id}/chronology/export.csv", response_class=PlainTextResponse)
async def export_csv(child_id: ChildId, principal: PrincipalDep, ctx: ChronologyDep) -> PlainTextResponse:
    """The whole chronology as CSV, as the reader may see it (audited as an export)."""
    decision = await ctx.guard.check(principal, "export", child_id, detail="chronology CSV")
    body = export.to_csv(await _everything(ctx, child_id, decision), family_view=decision.family_view)
    return PlainTextResponse(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="chronology-{child_id}.csv"'},
    )


@router.get("/children/{child_id}/chronology/print", response_class=HTMLResponse)
async def export_printable(child_id: ChildId, principal: PrincipalDep, ctx: ChronologyDep) -> HTMLResponse:
    """The whole chronology as a printable page, as the reader may see it (audited as an export)."""
    decision = await ctx.guard.check(principal, "export", child_id, detail="chronology printable")
    entries = await _everything(ctx, child_id, decision)
    return HTMLResponse(export.to_printable(child_id, entries, family_view=decision.family_view))
