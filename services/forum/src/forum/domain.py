"""The forum's rules and its one read model: a child's forum folded from its changes, in the order they were
made. Pure: no I/O, no clock.

A forum is its change log (each change one `shared.contracts.forum` event), so history is never lost: an
edit adds a version, a redaction hides the words and says who and why, a pin moves the post to the top.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from forum.models import Board, Columns, Mention, PostRead, PostVersion, ScaleRead, ThreadRead
from shared.contracts.forum import (
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
from shared.policy import WITHHELD_NAME, ChildAccess, Principal

CONFIDENTIAL = "A practitioner from a confidential health service"
CONFIDENTIAL_ID = "confidential"  # the one id every hidden practitioner is shown under
WITHHELD_ID = "withheld"  # `withheld-<n>`: a shielded child's practitioner, to those who may not see them
PIN_ORDER = {"danger_statement": 0, "safety_goal": 1}


class ThreadNotFound(LookupError):
    """No such thread in this child's forum (or not one the reader may see)."""


class PostNotFound(LookupError):
    """No such post in this child's forum (or not one the reader may see)."""


class ForumRuleBroken(ValueError):
    """A forum rule refuses the change; the message says which and why."""


class EditConflict(Exception):
    """Someone else changed the post at the same moment: read it again and retry."""


@dataclass(frozen=True)
class Change:
    """One stored change: the event's data, and the post's words rendered when it was written."""

    event: ForumEvent
    html: str = ""


@dataclass
class _Post:
    added: PostAdded
    versions: list[PostVersion]
    mentions: list[Mention] = field(default_factory=list)
    pin: Pin | None = None
    redacted: PostRedacted | None = None

    def read(self, *, see_confidential: bool = True) -> PostRead:
        a, latest = self.added, self.versions[-1]
        hidden = self.redacted is not None
        return PostRead(
            post_id=a.post_id,
            thread_id=a.thread_id,
            audience=a.audience,
            reply_to=a.reply_to,
            tag=a.tag,
            kind=a.kind,
            author=shown(a.by, see_confidential),
            family_voice=a.family_voice,
            body="" if hidden else latest.body,
            html="" if hidden else latest.html,
            created_at=a.at,
            version=latest.version,
            edited_at=latest.at if latest.version > 1 else None,
            mentions=[shown_mention(m, see_confidential) for m in self.mentions],
            pin=None if hidden else self.pin,
            redacted=hidden,
            redaction_reason=self.redacted.reason if self.redacted else None,
        )


@dataclass
class Forum:
    """A child's forum: every thread, post and scale, as folded from its changes."""

    child_id: str
    threads: dict[str, ThreadStarted] = field(default_factory=dict)
    posts: dict[str, _Post] = field(default_factory=dict)
    scales: list[ScaleRecorded] = field(default_factory=list)
    # Everyone who did something or was mentioned, in the order they first appear in the change log.
    people: dict[str, None] = field(default_factory=dict)

    @classmethod
    def fold(cls, child_id: str, changes: Iterable[Change]) -> Forum:
        forum = cls(child_id)
        for change in changes:
            forum.apply(change)
        return forum

    def apply(self, change: Change) -> None:
        e = change.event
        self.people.setdefault(e.by.person_id, None)
        if isinstance(e, MemberMentioned):
            self.people.setdefault(e.person_id, None)
        match e:
            case ThreadStarted():
                self.threads.setdefault(e.thread_id, e)
            case PostAdded():
                version = PostVersion(version=1, body=e.body, html=change.html, at=e.at)
                self.posts.setdefault(e.post_id, _Post(e, [version]))
            case PostEdited() if e.post_id in self.posts:
                post = self.posts[e.post_id]
                if e.version == post.versions[-1].version + 1:
                    post.versions.append(
                        PostVersion(version=e.version, body=e.body, html=change.html, at=e.at)
                    )
            case PostRedacted() if e.post_id in self.posts:
                self.posts[e.post_id].redacted = e
            case PostPinned() if e.post_id in self.posts:
                self.posts[e.post_id].pin = e.pin
            case MemberMentioned() if e.post_id in self.posts:
                mention = Mention(person_id=e.person_id, name=e.name, confidential=e.confidential)
                self.posts[e.post_id].mentions.append(mention)
            case ScaleRecorded():
                self.scales.append(e)

    # --- what a reader may see ---------------------------------------------------------------------------

    def thread(self, thread_id: str, *, family_view: bool) -> ThreadStarted:
        thread = self.threads.get(thread_id)
        if thread is None or not visible(thread.audience, family_view=family_view):
            raise ThreadNotFound(f"there is no thread {thread_id} in this child's forum")
        return thread

    def post(self, post_id: str, *, family_view: bool) -> _Post:
        post = self.posts.get(post_id)
        if post is None or not visible(post.added.audience, family_view=family_view):
            raise PostNotFound(f"there is no post {post_id} in this child's forum")
        return post

    def thread_view(self, thread_id: str, *, family_view: bool, see_confidential: bool) -> ThreadRead:
        t = self.thread(thread_id, family_view=family_view)
        posts = [
            p.read(see_confidential=see_confidential)
            for p in self.posts.values()
            if p.added.thread_id == thread_id
        ]
        return ThreadRead(
            thread_id=t.thread_id,
            title=t.title,
            audience=t.audience,
            started_by=shown(t.by, see_confidential),
            started_at=t.at,
            posts=posts,
        )

    def board(self, *, family_view: bool, can_moderate: bool, see_confidential: bool) -> Board:
        threads = [
            self.thread_view(t.thread_id, family_view=family_view, see_confidential=see_confidential)
            for t in sorted(self.threads.values(), key=lambda t: t.at, reverse=True)
            if visible(t.audience, family_view=family_view)
        ]
        posts = [p for t in threads for p in t.posts if not p.redacted]
        columns = Columns(
            worry=[p for p in posts if p.tag == "worry"],
            working_well=[p for p in posts if p.tag == "working_well"],
            next_step=[p for p in posts if p.tag == "next_step"],
        )
        pinned = sorted((p for p in posts if p.pin), key=lambda p: (PIN_ORDER[p.pin or ""], p.created_at))
        scales = [s for s in self.scales if visible(s.audience, family_view=family_view)]
        latest = {s.by.person_id: scale_view(s, see_confidential) for s in scales}
        history = [scale_view(s, see_confidential) for s in scales]
        return Board(
            child_id=self.child_id,
            family_view=family_view,
            can_moderate=can_moderate,
            threads=threads,
            pinned=pinned,
            columns=columns,
            scales=sorted(latest.values(), key=lambda s: s.at),
            scale_history=history,
        )

    def withholding(self, named: Iterable[str]) -> Withholding:
        """What a reader who may not see where this (shielded) child is sees of its practitioners: all but
        `named` withheld, each under the id their first appearance in the change log gives them."""
        aliases = {person_id: f"{WITHHELD_ID}-{n}" for n, person_id in enumerate(self.people, 1)}
        return Withholding(aliases=aliases, named=frozenset(named))


_P = TypeVar("_P", bound=PostRead)
_T = TypeVar("_T", bound=ThreadRead)


@dataclass(frozen=True)
class Withholding:
    """For a shielded child, the forum as a reader without `see_address` sees it (BRIEF §3; issue 9, rule 7):
    each practitioner by kind, role and agency, as the team directory shows them, but not by name or person
    id, which lead to the school, surgery or refuge near the child. Each keeps an id of their own
    (`withheld-<n>`), so posts and scale histories stay apart, numbered by first appearance rather than
    derived from the person's id, which the reader may have learnt elsewhere. The family's names stay (and a
    mention of family, `named` holds their ids), as does the reader's own: nobody is hidden from themself.
    A sensitive service's practitioner, already one neutral label, stays that. `aliases` None: nothing is
    withheld (the reader may see where the child is)."""

    aliases: Mapping[str, str] | None = None
    named: frozenset[str] = frozenset()

    def person(self, p: Participant) -> Participant:
        if self.aliases is None or p.family or p.person_id in self.named:
            return p
        if p.confidential and p.person_id == CONFIDENTIAL_ID:
            return p
        alias = self.aliases.get(p.person_id, WITHHELD_ID)
        return Participant(person_id=alias, name=WITHHELD_NAME, kind=p.kind, role=p.role, agency=p.agency)

    def mention(self, m: Mention) -> Mention:
        if self.aliases is None or m.person_id in self.named:
            return m
        if m.confidential and m.person_id == CONFIDENTIAL_ID:
            return m
        return Mention(person_id=self.aliases.get(m.person_id, WITHHELD_ID), name=WITHHELD_NAME)

    def post(self, post: _P) -> _P:
        """A post as the reader may see it (the export's, with its versions, stays one)."""
        if self.aliases is None:
            return post
        mentions = [self.mention(m) for m in post.mentions]
        return post.model_copy(update={"author": self.person(post.author), "mentions": mentions})

    def thread(self, thread: _T) -> _T:
        if self.aliases is None:
            return thread
        posts = [self.post(p) for p in thread.posts]
        return thread.model_copy(update={"started_by": self.person(thread.started_by), "posts": posts})

    def scale(self, s: ScaleRead) -> ScaleRead:
        return s if self.aliases is None else s.model_copy(update={"person": self.person(s.person)})

    def board(self, board: Board) -> Board:
        if self.aliases is None:
            return board
        columns = board.columns
        return board.model_copy(
            update={
                "threads": [self.thread(t) for t in board.threads],
                "pinned": [self.post(p) for p in board.pinned],
                "columns": Columns(
                    worry=[self.post(p) for p in columns.worry],
                    working_well=[self.post(p) for p in columns.working_well],
                    next_step=[self.post(p) for p in columns.next_step],
                ),
                "scales": [self.scale(s) for s in board.scales],
                "scale_history": [self.scale(s) for s in board.scale_history],
            }
        )


NOTHING_WITHHELD = Withholding()


def visible(audience: Audience, *, family_view: bool) -> bool:
    """The family sees shared threads only; the team sees every thread."""
    return audience == "family" or not family_view


def shown(person: Participant, see_confidential: bool) -> Participant:
    """A sensitive service's practitioner, as a reader who may not see sensitive providers sees them: not by
    name, agency or id (BRIEF §3)."""
    if not person.confidential or see_confidential:
        return person
    return Participant(person_id=CONFIDENTIAL_ID, name=CONFIDENTIAL, kind=person.kind, confidential=True)


def shown_mention(m: Mention, see_confidential: bool) -> Mention:
    """A mention of a sensitive service's practitioner is shown as their posts are: under the neutral label."""
    if not m.confidential or see_confidential:
        return m
    return Mention(person_id=CONFIDENTIAL_ID, name=CONFIDENTIAL, confidential=True)


def scale_view(s: ScaleRecorded, see_confidential: bool = True) -> ScaleRead:
    return ScaleRead(
        scale_id=s.scale_id,
        thread_id=s.thread_id,
        audience=s.audience,
        person=shown(s.by, see_confidential),
        score=s.score,
        comment=s.comment,
        at=s.at,
    )


def may_edit(post: _Post, principal: Principal) -> None:
    """Only the author edits a post: the family's own words are never changed by anyone else, and a
    practitioner's record is theirs to correct. A redacted post stays as the lead left it."""
    if post.added.by.person_id != principal.subject:
        whose = "the family's own words" if post.added.family_voice else "someone else's post"
        raise ForumRuleBroken(f"this is {whose}: only its author may edit it")
    if post.redacted is not None:
        raise ForumRuleBroken("this post was redacted by the lead professional and cannot be edited")


def mentionable(access: ChildAccess | None, person_ids: Sequence[str], audience: Audience) -> list[Mention]:
    """The people a post may name, in order; `ForumRuleBroken` naming the first who could not read it."""
    found: list[Mention] = []
    for person_id in dict.fromkeys(person_ids):
        member = access.member(person_id) if access else None
        family = access.family_link(person_id) if access else None
        if member is not None:
            found.append(
                Mention(person_id=person_id, name=member.name, confidential=member.sensitive_service)
            )
        elif family is not None and audience == "family":
            found.append(Mention(person_id=person_id, name=family.name))
        elif family is not None:
            raise ForumRuleBroken(
                f"{family.name} is family and cannot read this thread (it is for practitioners only), "
                "so they cannot be mentioned in it"
            )
        else:
            raise ForumRuleBroken(
                f"{person_id} is not in this child's team, so they have no access and cannot be mentioned"
            )
    return found
