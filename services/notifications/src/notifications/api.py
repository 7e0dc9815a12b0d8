"""Notifications' HTTP routes: a person's own inbox, their live stream and their preferences. Every route
is about the signed-in person only (the token's subject): nobody reads or marks another person's inbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Query
from sse_starlette import EventSourceResponse, ServerSentEvent

from notifications import service
from notifications.deps import ChildIdParam, NotificationId, NotificationsDep
from notifications.models import (
    ChangesPage,
    InboxPage,
    MarkedRead,
    Preferences,
    PreferencesUpdate,
    UnreadCount,
)
from notifications.stream import last_event_id
from shared.auth import PrincipalDep

router = APIRouter(tags=["notifications"])


@router.get("/notifications", response_model=InboxPage)
async def get_inbox(
    principal: PrincipalDep,
    ctx: NotificationsDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before: Annotated[int | None, Query(ge=1, description="Only notifications before this `seq`.")] = None,
) -> InboxPage:
    """The signed-in person's newest notifications that they may see now, with the unread count."""
    return await service.read_inbox(
        store=ctx.store, access=ctx.access, principal=principal, limit=limit, before_seq=before
    )


@router.get("/notifications/unread", response_model=UnreadCount)
async def get_unread(principal: PrincipalDep, ctx: NotificationsDep) -> UnreadCount:
    """How many unread notifications the signed-in person may see now (the bell)."""
    return UnreadCount(
        unread=await service.unread_count(store=ctx.store, access=ctx.access, principal=principal)
    )


@router.get("/changes", response_model=ChangesPage)
async def get_changes(
    principal: PrincipalDep,
    ctx: NotificationsDep,
    child_id: Annotated[
        list[ChildIdParam],
        Query(max_length=200, description="The children to ask about (the web's 'My children')."),
    ],
) -> ChangesPage:
    """What changed since the signed-in person last opened each of these children's records: when that was,
    and the notifications about the child since then that they may see now, by kind. Children they may not
    see now are left out."""
    return await service.changes_since_last_look(
        store=ctx.store, access=ctx.access, principal=principal, child_ids=child_id
    )


@router.post("/notifications/{notification_id}/read", response_model=MarkedRead)
async def mark_read(
    notification_id: NotificationId, principal: PrincipalDep, ctx: NotificationsDep
) -> MarkedRead:
    """Mark one of the signed-in person's notifications read (another person's is never touched)."""
    marked = await service.mark_read(store=ctx.store, principal=principal, ids=[notification_id])
    return MarkedRead(marked=marked)


@router.post("/notifications/read-all", response_model=MarkedRead)
async def mark_all_read(principal: PrincipalDep, ctx: NotificationsDep) -> MarkedRead:
    """Mark every unread notification of the signed-in person read."""
    return MarkedRead(marked=await service.mark_read(store=ctx.store, principal=principal, ids=None))


@router.get(
    "/notifications/stream",
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "Server-Sent Events"}},
)
async def stream_notifications(
    principal: PrincipalDep,
    ctx: NotificationsDep,
    last_event: Annotated[str | None, Header(alias="Last-Event-ID", max_length=30)] = None,
) -> EventSourceResponse:
    """The signed-in person's notifications as they arrive (Server-Sent Events); each event's id is its
    place in the inbox: reconnect with `Last-Event-ID` to resume without loss or repetition (`0`: from the
    start of the inbox; none: from now)."""

    after = last_event_id(last_event)
    if after is None:  # a new stream starts now; what came before is in the inbox
        after = await ctx.store.last_seq(principal.subject)

    async def events() -> AsyncIterator[bytes]:
        async for batch in ctx.stream.batches(principal, after=after):
            yield b"".join(ServerSentEvent(id=e.id, event=e.event, data=e.data).encode() for e in batch)

    return EventSourceResponse(events(), ping=ctx.ping_s, headers={"Cache-Control": "no-store"})


@router.get("/preferences", response_model=Preferences)
async def get_preferences(principal: PrincipalDep, ctx: NotificationsDep) -> Preferences:
    """Which kinds of event reach the signed-in person, and how (their role's defaults until they choose)."""
    return await service.preferences_of(ctx.store, principal.subject, principal.kind)


@router.put("/preferences", response_model=Preferences)
async def put_preferences(
    update: PreferencesUpdate, principal: PrincipalDep, ctx: NotificationsDep
) -> Preferences:
    """Choose, per kind of event, the channels it comes through."""
    return await service.set_preferences(store=ctx.store, principal=principal, update=update)
