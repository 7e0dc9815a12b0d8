"""The forum's HTTP routes: thin; each checks access through the shared guard (audited, the thread's
audience included) and calls one service function.

The family sees and writes in shared threads only: a family member asking for a practitioner-only thread,
or to post in one, is refused with the reason and the refusal is audited like any other.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, status

from forum import export, service, wording
from forum.deps import ChildId, ForumContext, ForumDep, PostId, ThreadId
from forum.domain import Forum, Withholding
from forum.models import (
    Board,
    PinChange,
    PostCreate,
    PostEdit,
    PostRead,
    PostVersion,
    Redaction,
    ScaleCreate,
    ScaleRead,
    ThreadCreate,
    ThreadRead,
    WordingCheck,
    WordingReport,
)
from shared.auth import PrincipalDep
from shared.contracts.forum import Audience
from shared.policy import Action, Decision, Principal
from shared.text import Line

router = APIRouter(tags=["forum"])
SearchTerm = Annotated[Line, Query(min_length=2, max_length=100, description="Words to find, any case.")]
PRACTITIONERS_ONLY = (
    "this thread is for the child's practitioners only; the family reads and posts in the shared threads"
)


def _for_audience(audience: Audience | None) -> Callable[[Decision], Decision]:
    """The policy's decision, narrowed by the thread's audience: the family view stops at shared threads."""

    def narrow(decision: Decision) -> Decision:
        if audience == "practitioners" and decision.family_view:
            return Decision(allowed=False, reason=PRACTITIONERS_ONLY, relationship=decision.relationship)
        return decision

    return narrow


async def _checked(
    ctx: ForumContext,
    principal: Principal,
    action: Action,
    child_id: str,
    *,
    thread_id: str | None = None,
    post_id: str | None = None,
    detail: str | None = None,
    purpose: str | None = None,
) -> tuple[Forum, Decision]:
    """The child's forum and the decision about it; nothing of the forum leaves before the check."""
    forum = await service.load(store=ctx.store, child_id=child_id)
    audience: Audience | None = None
    if thread_id is not None and thread_id in forum.threads:
        audience = forum.threads[thread_id].audience
    if post_id is not None and post_id in forum.posts:
        audience = forum.posts[post_id].added.audience
    decision = await ctx.guard.check(
        principal, action, child_id, detail=detail, purpose=purpose, narrow=_for_audience(audience)
    )
    return forum, decision


async def _withholding(
    ctx: ForumContext, principal: Principal, forum: Forum, decision: Decision
) -> Withholding:
    """What the reader sees of a shielded child's practitioners, as the policy's decision says."""
    access = await ctx.guard.access(forum.child_id)
    return service.withholding(
        forum, see_location=decision.see_address, reader_id=principal.subject, access=access
    )


@router.get("/children/{child_id}/forum", response_model=Board)
async def get_forum(child_id: ChildId, principal: PrincipalDep, ctx: ForumDep) -> Board:
    """The child's forum as the reader may see it: threads, pinned statements, the three columns, scales."""

    async def fetch(decision: Decision) -> Board:
        return await service.read_board(
            ctx.store,
            child_id,
            family_view=decision.family_view,
            can_moderate=await ctx.guard.allows(principal, "moderate_forum", child_id),
            see_confidential=decision.see_sensitive_providers,
            see_location=decision.see_address,
            reader_id=principal.subject,
            access=await ctx.guard.access(child_id),
        )

    return await ctx.guard.read(principal, "read_forum", child_id, fetch)


@router.get("/children/{child_id}/forum/threads/{thread_id}", response_model=ThreadRead)
async def get_thread(
    child_id: ChildId, thread_id: ThreadId, principal: PrincipalDep, ctx: ForumDep
) -> ThreadRead:
    """One thread with its posts and replies."""
    forum, decision = await _checked(ctx, principal, "read_forum", child_id, thread_id=thread_id)
    view = forum.thread_view(
        thread_id, family_view=decision.family_view, see_confidential=decision.see_sensitive_providers
    )
    return (await _withholding(ctx, principal, forum, decision)).thread(view)


@router.post(
    "/children/{child_id}/forum/threads", response_model=ThreadRead, status_code=status.HTTP_201_CREATED
)
async def start_thread(
    child_id: ChildId, thread: ThreadCreate, principal: PrincipalDep, ctx: ForumDep
) -> ThreadRead:
    """Start a thread, for the practitioners only or shared with the family (fixed from now on)."""
    decision = await ctx.guard.check(principal, "post_forum", child_id, narrow=_for_audience(thread.audience))
    started = await service.start_thread(
        store=ctx.store,
        topic=ctx.topics.forum_events,
        child_id=child_id,
        principal=principal,
        access=await ctx.guard.access(child_id),
        title=thread.title,
        audience=thread.audience,
        first_post=thread.first_post,
        see_location=decision.see_address,
    )
    ctx.notify_outbox()
    return started


@router.post(
    "/children/{child_id}/forum/threads/{thread_id}/posts",
    response_model=PostRead,
    status_code=status.HTTP_201_CREATED,
)
async def add_post(
    child_id: ChildId, thread_id: ThreadId, post: PostCreate, principal: PrincipalDep, ctx: ForumDep
) -> PostRead:
    """Post in a thread, or reply to a post in it; mentions name team members who may read it."""
    forum, decision = await _checked(ctx, principal, "post_forum", child_id, thread_id=thread_id)
    added = await service.add_post(
        store=ctx.store,
        topic=ctx.topics.forum_events,
        forum=forum,
        thread_id=thread_id,
        principal=principal,
        access=await ctx.guard.access(child_id),
        post=post,
        see_location=decision.see_address,
    )
    ctx.notify_outbox()
    return added


@router.put("/children/{child_id}/forum/posts/{post_id}", response_model=PostRead)
async def edit_post(
    child_id: ChildId, post_id: PostId, edit: PostEdit, principal: PrincipalDep, ctx: ForumDep
) -> PostRead:
    """The author changes their post; every earlier version is kept."""
    forum, decision = await _checked(ctx, principal, "post_forum", child_id, post_id=post_id, detail="edit")
    edited = await service.edit_post(
        store=ctx.store,
        topic=ctx.topics.forum_events,
        forum=forum,
        post_id=post_id,
        principal=principal,
        access=await ctx.guard.access(child_id),
        body=edit.body,
        see_location=decision.see_address,
    )
    ctx.notify_outbox()
    return edited


@router.get("/children/{child_id}/forum/posts/{post_id}/versions", response_model=list[PostVersion])
async def get_versions(
    child_id: ChildId, post_id: PostId, principal: PrincipalDep, ctx: ForumDep
) -> list[PostVersion]:
    """Every version of a post, oldest first."""
    forum, decision = await _checked(
        ctx, principal, "read_forum", child_id, post_id=post_id, detail="versions"
    )
    return service.versions(forum, post_id=post_id, family_view=decision.family_view)


@router.post("/children/{child_id}/forum/posts/{post_id}/redact", response_model=PostRead)
async def redact_post(
    child_id: ChildId, post_id: PostId, redaction: Redaction, principal: PrincipalDep, ctx: ForumDep
) -> PostRead:
    """The lead takes a post's words out of every view, with a reason (audited)."""
    forum, _ = await _checked(
        ctx, principal, "moderate_forum", child_id, post_id=post_id, detail="redact", purpose=redaction.reason
    )
    redacted = await service.redact_post(
        store=ctx.store,
        topic=ctx.topics.forum_events,
        forum=forum,
        post_id=post_id,
        principal=principal,
        access=await ctx.guard.access(child_id),
        reason=redaction.reason,
    )
    ctx.notify_outbox()
    return redacted


@router.put("/children/{child_id}/forum/posts/{post_id}/pin", response_model=PostRead)
async def pin_post(
    child_id: ChildId, post_id: PostId, change: PinChange, principal: PrincipalDep, ctx: ForumDep
) -> PostRead:
    """The lead pins a post as a danger statement or a safety goal, or takes the pin off."""
    forum, _ = await _checked(ctx, principal, "moderate_forum", child_id, post_id=post_id, detail="pin")
    pinned = await service.pin_post(
        store=ctx.store,
        topic=ctx.topics.forum_events,
        forum=forum,
        post_id=post_id,
        principal=principal,
        access=await ctx.guard.access(child_id),
        pin=change.pin,
    )
    ctx.notify_outbox()
    return pinned


@router.post(
    "/children/{child_id}/forum/threads/{thread_id}/scales",
    response_model=ScaleRead,
    status_code=status.HTTP_201_CREATED,
)
async def record_scale(
    child_id: ChildId, thread_id: ThreadId, scale: ScaleCreate, principal: PrincipalDep, ctx: ForumDep
) -> ScaleRead:
    """Say how safe the child is now, 0 to 10, with a comment; each person's history is kept."""
    forum, _ = await _checked(ctx, principal, "post_forum", child_id, thread_id=thread_id, detail="scale")
    recorded = await service.record_scale(
        store=ctx.store,
        topic=ctx.topics.forum_events,
        forum=forum,
        thread_id=thread_id,
        principal=principal,
        access=await ctx.guard.access(child_id),
        score=scale.score,
        comment=scale.comment,
    )
    ctx.notify_outbox()
    return recorded


@router.post("/children/{child_id}/forum/wording", response_model=WordingReport)
async def check_wording(
    child_id: ChildId, check: WordingCheck, principal: PrincipalDep, ctx: ForumDep
) -> WordingReport:
    """The plain-language check of a draft: its reading age and the jargon it uses. It never blocks."""
    await ctx.guard.check(principal, "post_forum", child_id, detail="plain-language check")
    return wording.check_wording(check.text)


@router.get("/children/{child_id}/forum/search", response_model=list[PostRead])
async def search_forum(
    child_id: ChildId, principal: PrincipalDep, ctx: ForumDep, q: SearchTerm
) -> list[PostRead]:
    """Posts whose current words contain `q`, newest first, in the threads the reader may see."""
    forum, decision = await _checked(ctx, principal, "read_forum", child_id, detail="search")
    return export.search(
        forum,
        q,
        family_view=decision.family_view,
        see_confidential=decision.see_sensitive_providers,
        withheld=await _withholding(ctx, principal, forum, decision),
    )


@router.get("/children/{child_id}/forum/export", response_model=export.ForumExport)
async def export_forum(child_id: ChildId, principal: PrincipalDep, ctx: ForumDep) -> export.ForumExport:
    """Everything of the forum the reader may see, with each post's versions: for a case review or a
    subject access request (the family's export is the family's view)."""
    forum, decision = await _checked(ctx, principal, "export", child_id, detail="forum")
    return export.export(
        forum,
        family_view=decision.family_view,
        see_confidential=decision.see_sensitive_providers,
        withheld=await _withholding(ctx, principal, forum, decision),
        now=datetime.now(UTC),
    )
