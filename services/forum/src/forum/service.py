"""Forum use cases: load a child's forum, change it (each change stored with its events in one write, then
published by the outbox relay), and read it as the reader may see it.

Access is decided before any of these is called (the routes, through the shared guard); what is checked here
are the forum's own rules: who may edit, who may be mentioned, what can be pinned.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from forum import wording
from forum.board import board, refresh_board
from forum.domain import (
    NOTHING_WITHHELD,
    Change,
    Forum,
    ForumRuleBroken,
    PostNotFound,
    ThreadNotFound,
    Withholding,
    may_edit,
    mentionable,
)
from forum.models import Board, PostCreate, PostRead, PostVersion, ScaleRead, ThreadRead
from forum.store import ForumStore, change_document, view_key
from shared.contracts.forum import (
    SOURCE,
    TYPE_OF,
    Audience,
    ForumEvent,
    MemberMentioned,
    Participant,
    Pin,
    PostAdded,
    PostEdited,
    PostPinned,
    PostRedacted,
    ScaleRecorded,
    ThreadStarted,
)
from shared.events import make_event
from shared.policy import ChildAccess, Principal

__all__ = ["ForumRuleBroken", "PostNotFound", "ThreadNotFound"]


def participant(principal: Principal, access: ChildAccess | None) -> Participant:
    """The author as the forum records them; `confidential` when they work for a sensitive service (their
    name and agency are then shown only to those the policy lets see sensitive providers)."""
    member = access.member(principal.subject) if access else None
    return Participant(
        person_id=principal.subject,
        name=principal.name,
        kind=principal.kind,
        role=principal.role,
        agency=principal.agency,
        confidential=member is not None and member.sensitive_service,
    )


def new_id() -> str:
    return uuid.uuid4().hex


async def load(*, store: ForumStore, child_id: str) -> Forum:
    """The child's whole forum, folded from its changes (nothing of it is shown before access is checked)."""
    return Forum.fold(child_id, await store.changes(child_id))


async def _save(
    store: ForumStore,
    topic: str,
    events: Sequence[tuple[ForumEvent, str]],
    *,
    doc_id: str | None = None,
    correlation_id: str | None = None,
) -> None:
    """Store one request's changes, the stored board marked stale first (`refresh_board` brings it up to
    date once the change is stored)."""
    await store.mark_changing(events[0][0].child_id)
    envelopes = [
        (
            make_event(
                type=TYPE_OF[type(e)],
                source=SOURCE,
                subject=e.child_id,
                data=e,
                correlation_id=correlation_id,
            ),
            html,
        )
        for e, html in events
    ]
    await store.add(change_document(doc_id or new_id(), topic, envelopes))


def _post_events(
    *,
    child_id: str,
    thread: ThreadStarted,
    by: Participant,
    post: PostCreate,
    access: ChildAccess | None,
    at: datetime,
) -> tuple[PostAdded, list[tuple[ForumEvent, str]]]:
    mentions = mentionable(access, post.mentions, thread.audience)
    added = PostAdded(
        child_id=child_id,
        thread_id=thread.thread_id,
        audience=thread.audience,
        by=by,
        at=at,
        post_id=new_id(),
        reply_to=post.reply_to,
        tag=post.tag,
        kind=post.kind,
        body=post.body,
        family_voice=by.family,
        mentions=[m.person_id for m in mentions],
    )
    named: list[tuple[ForumEvent, str]] = [
        (
            MemberMentioned(
                child_id=child_id,
                thread_id=thread.thread_id,
                audience=thread.audience,
                by=by,
                at=at,
                post_id=added.post_id,
                person_id=m.person_id,
                name=m.name,
                confidential=m.confidential,
            ),
            "",
        )
        for m in mentions
    ]
    return added, [(added, wording.render(post.body)), *named]


def withholding(
    forum: Forum, *, see_location: bool, reader_id: str, access: ChildAccess | None
) -> Withholding:
    """What this reader sees of the child's practitioners (`domain.Withholding`): all of them, if they may
    see where the child is; otherwise, for a shielded child, each by role, but themself and the family."""
    if see_location:
        return NOTHING_WITHHELD
    family = [f.person_id for f in access.family] if access else []
    return forum.withholding([reader_id, *family])


async def start_thread(
    *,
    store: ForumStore,
    topic: str,
    child_id: str,
    principal: Principal,
    access: ChildAccess | None,
    title: str,
    audience: Audience,
    first_post: PostCreate,
    see_location: bool,
) -> ThreadRead:
    """Open a thread for the practitioners or shared with the family, with its first post."""
    if first_post.reply_to:
        raise ForumRuleBroken("the first post of a thread cannot be a reply")
    at, by = datetime.now(UTC), participant(principal, access)
    thread = ThreadStarted(
        child_id=child_id, thread_id=new_id(), audience=audience, by=by, at=at, title=title
    )
    _, events = _post_events(child_id=child_id, thread=thread, by=by, post=first_post, access=access, at=at)
    await _save(store, topic, [(thread, ""), *events])
    await refresh_board(store, child_id)
    forum = await load(store=store, child_id=child_id)
    shield = withholding(forum, see_location=see_location, reader_id=principal.subject, access=access)
    return shield.thread(forum.thread_view(thread.thread_id, family_view=by.family, see_confidential=True))


async def add_post(
    *,
    store: ForumStore,
    topic: str,
    forum: Forum,
    thread_id: str,
    principal: Principal,
    access: ChildAccess | None,
    post: PostCreate,
    see_location: bool,
) -> PostRead:
    """Add a post (or a reply) to a thread the author may write in."""
    by = participant(principal, access)
    thread = forum.thread(thread_id, family_view=by.family)
    if post.reply_to is not None:
        replied = forum.post(post.reply_to, family_view=by.family)
        if replied.added.thread_id != thread_id:
            raise ForumRuleBroken("a reply belongs in the thread of the post it answers")
    added, events = _post_events(
        child_id=forum.child_id, thread=thread, by=by, post=post, access=access, at=datetime.now(UTC)
    )
    await _save(store, topic, events)
    await refresh_board(store, forum.child_id)
    for change in (Change(e, html) for e, html in events):
        forum.apply(change)
    shield = withholding(forum, see_location=see_location, reader_id=principal.subject, access=access)
    return shield.post(forum.posts[added.post_id].read())


async def edit_post(
    *,
    store: ForumStore,
    topic: str,
    forum: Forum,
    post_id: str,
    principal: Principal,
    access: ChildAccess | None,
    body: str,
    see_location: bool,
) -> PostRead:
    """The author changes their post; the earlier versions are kept."""
    by = participant(principal, access)
    post = forum.post(post_id, family_view=by.family)
    may_edit(post, principal)
    a = post.added
    version = post.versions[-1].version + 1
    edited = PostEdited(
        child_id=a.child_id,
        thread_id=a.thread_id,
        audience=a.audience,
        by=by,
        at=datetime.now(UTC),
        post_id=post_id,
        version=version,
        body=body,
    )
    html = wording.render(body)
    await _save(store, topic, [(edited, html)], doc_id=f"{post_id}:v{version}")
    await refresh_board(store, a.child_id)
    forum.apply(Change(edited, html))
    shield = withholding(forum, see_location=see_location, reader_id=principal.subject, access=access)
    return shield.post(post.read())


async def redact_post(
    *,
    store: ForumStore,
    topic: str,
    forum: Forum,
    post_id: str,
    principal: Principal,
    access: ChildAccess | None,
    reason: str,
) -> PostRead:
    """The lead takes a post's words out of every view, saying why; the words are erased from the store."""
    post = forum.post(post_id, family_view=False)
    if post.redacted is not None:
        return post.read()
    a = post.added
    redaction = PostRedacted(
        child_id=a.child_id,
        thread_id=a.thread_id,
        audience=a.audience,
        by=participant(principal, access),
        at=datetime.now(UTC),
        post_id=post_id,
        reason=reason,
    )
    await _save(store, topic, [(redaction, "")])
    await store.erase_words(a.child_id, post_id)
    await refresh_board(store, a.child_id)
    forum.apply(Change(redaction))
    return post.read()


async def pin_post(
    *,
    store: ForumStore,
    topic: str,
    forum: Forum,
    post_id: str,
    principal: Principal,
    access: ChildAccess | None,
    pin: Pin | None,
) -> PostRead:
    """The lead pins a post as a danger statement or a safety goal, or takes the pin off."""
    post = forum.post(post_id, family_view=False)
    if post.redacted is not None:
        raise ForumRuleBroken("a redacted post cannot be pinned")
    a = post.added
    pinned = PostPinned(
        child_id=a.child_id,
        thread_id=a.thread_id,
        audience=a.audience,
        by=participant(principal, access),
        at=datetime.now(UTC),
        post_id=post_id,
        pin=pin,
        summary=wording.plain_text(post.versions[-1].body),
    )
    await _save(store, topic, [(pinned, "")])
    await refresh_board(store, a.child_id)
    forum.apply(Change(pinned))
    return post.read()


async def record_scale(
    *,
    store: ForumStore,
    topic: str,
    forum: Forum,
    thread_id: str,
    principal: Principal,
    access: ChildAccess | None,
    score: int,
    comment: str,
) -> ScaleRead:
    """A participant says how safe the child is now, 0 to 10, in a thread they may write in."""
    by = participant(principal, access)
    thread = forum.thread(thread_id, family_view=by.family)
    scale = ScaleRecorded(
        child_id=forum.child_id,
        thread_id=thread_id,
        audience=thread.audience,
        by=by,
        at=datetime.now(UTC),
        scale_id=new_id(),
        score=score,
        comment=comment,
    )
    await _save(store, topic, [(scale, "")])
    await refresh_board(store, forum.child_id)
    forum.apply(Change(scale))
    return ScaleRead(
        scale_id=scale.scale_id,
        thread_id=thread_id,
        audience=thread.audience,
        person=by,
        score=score,
        comment=comment,
        at=scale.at,
    )


async def read_board(
    store: ForumStore,
    child_id: str,
    *,
    family_view: bool,
    can_moderate: bool,
    see_confidential: bool,
    see_location: bool,
    reader_id: str,
    access: ChildAccess | None,
) -> Board:
    """The stored board as this reader may see it: one lookup, or a fold when it may be behind. A shielded
    child's board, to a reader who may not see where the child is, is folded for them: what they see of each
    practitioner depends on who they are (`withholding`)."""
    if not see_location:
        forum = await load(store=store, child_id=child_id)
        shown = board(
            forum, family_view=family_view, can_moderate=can_moderate, see_confidential=see_confidential
        )
        return withholding(forum, see_location=False, reader_id=reader_id, access=access).board(shown)
    key = view_key(family_view=family_view, see_confidential=see_confidential)
    stored = await store.board_views(child_id)
    if stored is not None and not stored.stale and key in stored.views:
        view = stored.views[key]
    else:
        view = (await refresh_board(store, child_id, marks=stored.marks if stored else 0))[key]
    found = Board.model_validate_json(view)
    return found.model_copy(update={"can_moderate": can_moderate}) if can_moderate else found


def versions(forum: Forum, *, post_id: str, family_view: bool) -> list[PostVersion]:
    """Every version of a post, oldest first (none once it was redacted)."""
    post = forum.post(post_id, family_view=family_view)
    return [] if post.redacted else list(post.versions)
