"""The person's notifications: the page, the bell's count, the live stream the page's script listens to, and
the preferences page. Everything is read from the notifications service as the person: it decides, at the
moment it answers, what they may still see."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse, StreamingResponse

from web.clients import BackendError
from web.pages.common import FormUserDep, SignedInDep, render, web_of

router = APIRouter()
NotificationId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-f0-9]+$")]
KIND_LABELS = {
    "join_requested": "Requests to join a team",
    "break_glass_used": "Break-glass access to a child's record",
    "significant_contact": "New significant events from agencies",
    "significance_marked": "Entries marked significant",
    "record_opened": "A record opened by someone new",
    "cross_agency_pattern": "Concerns from several agencies",
    "forum_worry": "New worries in a child's forum",
    "forum_mention": "Being mentioned in a child's forum",
}
CHANNEL_LABELS = {"in_app": "In the app", "live": "Live", "email": "Email", "digest": "Daily digest"}


@router.get("/notifications", summary="My notifications")
async def list_notifications(request: Request, user: SignedInDep) -> Response:
    """My notifications, newest first, with what is unread."""
    inbox = await web_of(request).notifications.inbox(token=user.token)
    return render(request, "notifications.html", inbox=inbox, active="notifications")


@router.post("/notifications/{notification_id}/open", summary="Open a notification")
async def open_notification(request: Request, notification_id: NotificationId, user: FormUserDep) -> Response:
    """Mark it read and go where it points (the page there checks access again)."""
    web = web_of(request)
    await web.notifications.mark_read(notification_id, token=user.token)
    inbox = await web.notifications.inbox(token=user.token, limit=200)
    target = next((n.link for n in inbox.notifications if n.id == notification_id), "/notifications")
    return RedirectResponse(target if target.startswith("/") else "/notifications", status_code=303)


@router.post("/notifications/read-all", summary="Mark all notifications read")
async def read_all(request: Request, user: FormUserDep) -> Response:
    await web_of(request).notifications.mark_all_read(token=user.token)
    return RedirectResponse("/notifications", status_code=303)


@router.get("/notifications/unread.json", summary="The bell's count")
async def unread(request: Request, user: SignedInDep) -> Response:
    """How many unread notifications I have (the bell on every page asks once, then listens live)."""
    try:
        count = await web_of(request).notifications.unread(token=user.token)
    except BackendError:
        count = 0  # the bell is a convenience: a page never fails because of it
    return JSONResponse({"unread": count}, headers={"Cache-Control": "no-store"})


@router.get("/notifications/live", summary="My notifications as they arrive")
async def live(
    request: Request,
    user: SignedInDep,
    last_event: Annotated[str | None, Header(alias="Last-Event-ID", max_length=30)] = None,
    after: Annotated[
        int | None, Query(ge=0, description="Resume after this notification (the page's newest)")
    ] = None,
) -> Response:
    """The notifications service's live stream for me, passed through (same origin for the page's script).
    The browser's `Last-Event-ID` (on a reconnect) wins over `after` (what the page already shows)."""
    resume = last_event or (str(after) if after is not None else None)
    chunks = web_of(request).notifications.stream(token=user.token, last_event_id=resume)
    first = await anext(chunks, b"")  # a refusal becomes the usual page (or sign-in) before streaming starts

    async def body() -> object:
        if first:
            yield first
        async for chunk in chunks:
            yield chunk

    return StreamingResponse(
        body(),  # type: ignore[arg-type]
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.get("/preferences", summary="My notification preferences")
async def preferences(request: Request, user: SignedInDep) -> Response:
    prefs = await web_of(request).notifications.preferences(token=user.token)
    return render(
        request,
        "preferences.html",
        prefs=prefs,
        kinds=KIND_LABELS,
        channels=CHANNEL_LABELS,
        active="notifications",
    )


@router.post("/preferences", summary="Save my notification preferences")
async def save_preferences(request: Request, user: FormUserDep) -> Response:
    """Each box ticked is `<kind>.<channel>`; a kind with none ticked is not delivered."""
    form = await request.form()
    chosen: dict[str, list[str]] = {kind: [] for kind in KIND_LABELS}
    for key in form:
        kind, _, channel = str(key).partition(".")
        if kind in KIND_LABELS and channel in CHANNEL_LABELS:
            chosen[kind].append(channel)
    await web_of(request).notifications.set_preferences(chosen, token=user.token)
    return RedirectResponse("/preferences?done=preferences", status_code=303)
