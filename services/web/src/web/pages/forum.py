"""The forum's forms on the child's page: start a thread, post or reply, record a safety scale, and, for the
lead, pin and redact. The plain-language check is a step before posting: "Check wording" shows the draft's
reading age and jargon, with the form to post it as it is or changed. It flags, never blocks.

Each form is sent to the forum service with the person's own token: the forum decides who may do what (the
family only in shared threads), and its refusal is shown as it gave it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import RedirectResponse

from shared.text import Line, Prose
from web.clients import Forbidden, NotFound, Rejected
from web.forum import AUDIENCE_LABELS, KIND_LABELS, PIN_LABELS, SHORT_TAGS
from web.pages.common import FormUserDep, SafeId, SignedIn, SignedInDep, render, web_of

router = APIRouter()
Body = Annotated[Prose, Form(max_length=10_000)]
Short = Annotated[Line, Form(max_length=200)]
Choice = Annotated[Line, Form(max_length=40)]
Mentions = Annotated[list[Line], Form(max_length=20)]
Words = Annotated[Line, Query(min_length=2, max_length=100)]


def _refused(request: Request, child_id: str, err: Rejected | Forbidden | NotFound) -> Response:
    return render(
        request,
        "error.html",
        status_code=err.status,
        title="That could not be posted",
        message=err.detail,
        back=f"/children/{child_id}#forum",
    )


def _done(child_id: str, code: str) -> Response:
    return RedirectResponse(f"/children/{child_id}?done={code}#forum", status_code=303)


async def _check(
    request: Request, user: SignedIn, child_id: str, *, target: str, fields: dict[str, Any]
) -> Response:
    report = await web_of(request).forum.check_wording(child_id, token=user.token, text=fields["body"])
    return render(
        request,
        "forum_check.html",
        child_id=child_id,
        report=report,
        target=target,
        fields=fields,
        tags=SHORT_TAGS,
        kinds=KIND_LABELS,
    )


@router.post("/children/{child_id}/forum/threads", summary="Start a forum thread")
async def start_thread(
    request: Request,
    child_id: SafeId,
    user: FormUserDep,
    title: Short = "",
    audience: Choice = "family",
    body: Body = "",
    tag: Choice = "worry",
    kind: Choice = "observation",
    mention: Mentions = [],  # noqa: B006  (FastAPI copies defaults)
    action: Choice = "post",
) -> Response:
    """Start a thread for the practitioners only, or shared with the family, with its first post."""
    fields = {"title": title, "audience": audience, "body": body, "tag": tag, "kind": kind}
    if action == "check":
        return await _check(
            request, user, child_id, target=f"/children/{child_id}/forum/threads", fields=fields
        )
    first = {"body": body, "tag": tag, "kind": kind, "mentions": mention}
    thread = {"title": title.strip() or "Untitled", "audience": audience, "first_post": first}
    try:
        await web_of(request).forum.start_thread(child_id, token=user.token, thread=thread)
    except (Rejected, Forbidden, NotFound) as err:
        return _refused(request, child_id, err)
    return _done(child_id, "forum_posted")


@router.post("/children/{child_id}/forum/threads/{thread_id}/posts", summary="Post in a forum thread")
async def add_post(
    request: Request,
    child_id: SafeId,
    thread_id: SafeId,
    user: FormUserDep,
    body: Body = "",
    tag: Choice = "worry",
    kind: Choice = "observation",
    reply_to: Short = "",
    mention: Mentions = [],  # noqa: B006
    action: Choice = "post",
) -> Response:
    """Post in a thread, or reply to one of its posts."""
    fields = {"body": body, "tag": tag, "kind": kind, "reply_to": reply_to}
    if action == "check":
        target = f"/children/{child_id}/forum/threads/{thread_id}/posts"
        return await _check(request, user, child_id, target=target, fields=fields)
    post = {"body": body, "tag": tag, "kind": kind, "reply_to": reply_to or None, "mentions": mention}
    try:
        await web_of(request).forum.add_post(child_id, thread_id, token=user.token, post=post)
    except (Rejected, Forbidden, NotFound) as err:
        return _refused(request, child_id, err)
    return _done(child_id, "forum_posted")


@router.post("/children/{child_id}/forum/threads/{thread_id}/scales", summary="Record a safety scale")
async def record_scale(
    request: Request,
    child_id: SafeId,
    thread_id: SafeId,
    user: FormUserDep,
    score: Annotated[int, Form(ge=0, le=10)],
    comment: Annotated[Prose, Form(max_length=2000)] = "",
) -> Response:
    """How safe is the child now, 0 to 10, with a comment."""
    try:
        await web_of(request).forum.record_scale(
            child_id, thread_id, token=user.token, score=score, comment=comment
        )
    except (Rejected, Forbidden, NotFound) as err:
        return _refused(request, child_id, err)
    return _done(child_id, "forum_scale")


@router.post("/children/{child_id}/forum/posts/{post_id}/pin", summary="Pin or unpin a forum post")
async def pin_post(
    request: Request, child_id: SafeId, post_id: SafeId, user: FormUserDep, pin: Choice = ""
) -> Response:
    """The lead pins a post as a danger statement or a safety goal, or takes the pin off."""
    try:
        await web_of(request).forum.pin(
            child_id, post_id, token=user.token, pin=pin if pin in PIN_LABELS else None
        )
    except (Rejected, Forbidden, NotFound) as err:
        return _refused(request, child_id, err)
    return _done(child_id, "forum_pinned")


@router.post("/children/{child_id}/forum/posts/{post_id}/redact", summary="Redact a forum post")
async def redact_post(
    request: Request,
    child_id: SafeId,
    post_id: SafeId,
    user: FormUserDep,
    reason: Annotated[Prose, Form(max_length=2000)] = "",
) -> Response:
    """The lead takes a post's words out of every view, saying why."""
    try:
        await web_of(request).forum.redact(child_id, post_id, token=user.token, reason=reason)
    except (Rejected, Forbidden, NotFound) as err:
        return _refused(request, child_id, err)
    return _done(child_id, "forum_redacted")


FORUM_LABELS = {
    "audiences": AUDIENCE_LABELS,
    "tags": SHORT_TAGS,
    "kinds": KIND_LABELS,
    "pins": PIN_LABELS,
}


@router.get("/children/{child_id}/forum/search", summary="Search the forum")
async def search(request: Request, child_id: SafeId, user: SignedInDep, q: Words) -> Response:
    """The posts with these words, in the threads this person may read, newest first."""
    posts = await web_of(request).forum.search(child_id, token=user.token, q=q)
    return render(
        request,
        "child_forum_search.html",
        child_id=child_id,
        q=q,
        posts=posts,
        tags=SHORT_TAGS,
        audiences=AUDIENCE_LABELS,
    )


@router.get("/children/{child_id}/forum/export.json", summary="Download the forum")
async def export(request: Request, child_id: SafeId, user: SignedInDep) -> Response:
    """Everything of the forum this person may read, with each post's versions, as the forum exports it."""
    answer = await web_of(request).forum.export(child_id, token=user.token)
    return Response(
        answer.content,
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="forum-{child_id}.json"'},
    )
