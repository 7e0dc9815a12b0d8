"""Chronology's HTTP routes: thin, each calls one service function."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query

from chronology import service
from chronology.models import ChronologyPage
from chronology.store import ChronologyStore

ChildId = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")]


def router(store: ChronologyStore) -> APIRouter:
    api = APIRouter(tags=["chronology"])

    @api.get("/children/{child_id}/chronology", response_model=ChronologyPage)
    async def get_chronology(
        child_id: ChildId,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        cursor: Annotated[str | None, Query(max_length=500)] = None,
    ) -> ChronologyPage:
        """A page of the child's chronology, oldest first; pass `next_cursor` back for the next page."""
        try:
            return await service.read_chronology(store=store, child_id=child_id, limit=limit, cursor=cursor)
        except service.BadCursor as err:
            raise HTTPException(status_code=400, detail=str(err)) from err

    return api
