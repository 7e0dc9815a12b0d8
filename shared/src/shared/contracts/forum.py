"""The forum contract, v1: what the forum publishes to `forum.events`, keyed by child id.

Every change to a child's forum is one event: a thread started, a post added, edited, redacted or pinned, a
safety scale recorded, a team member mentioned. Each carries the thread's `audience`, fixed when the thread was
started: `practitioners` (the child's team only) or `family` (shared with the family, who read and post in
it). A consumer that shows forum words to anyone shows them only to that audience (BRIEF §3, family view).

Post bodies travel as the author wrote them (Markdown source, at most `MAX_BODY` characters); a consumer that
renders them renders them as text, or through the same sanitiser the forum uses.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.events import Envelope, EnvelopeBase, RawEnvelope
from shared.policy import PrincipalKind
from shared.text import Line, Prose

SOURCE = "forum"
MAX_BODY = 10_000

Audience = Literal["practitioners", "family"]
Tag = Literal["worry", "working_well", "next_step"]
PostKind = Literal["observation", "progress", "concern"]
Pin = Literal["danger_statement", "safety_goal"]

THREAD_STARTED = "forum.thread_started"
POST_ADDED = "forum.post_added"
POST_EDITED = "forum.post_edited"
POST_REDACTED = "forum.post_redacted"
POST_PINNED = "forum.post_pinned"
SCALE_RECORDED = "forum.scale_recorded"
MEMBER_MENTIONED = "forum.member_mentioned"


class Participant(BaseModel):
    """Who wrote or did something in the forum, as the forum shows them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    person_id: Line = Field(min_length=1, max_length=200)
    name: Line = Field(min_length=1, max_length=200)
    kind: PrincipalKind
    role: Line | None = Field(default=None, max_length=100)
    agency: Line | None = Field(default=None, max_length=100)
    confidential: bool = Field(
        default=False,
        description="Works for a sensitive service: name and agency shown only to those who may see them.",
    )

    @property
    def family(self) -> bool:
        return self.kind == "family"


class ForumEvent(BaseModel):
    """What every forum event carries."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    child_id: Line = Field(min_length=1, max_length=100)
    thread_id: Line = Field(min_length=1, max_length=100)
    audience: Audience
    by: Participant
    at: datetime


class ThreadStarted(ForumEvent):
    title: Line = Field(min_length=1, max_length=200)


class PostAdded(ForumEvent):
    """A post, or a reply to one (`reply_to`). `family_voice`: written by the family or the child, in their
    own words; nobody else may edit it."""

    post_id: Line = Field(min_length=1, max_length=100)
    reply_to: Line | None = Field(default=None, max_length=100)
    tag: Tag
    kind: PostKind
    body: Prose = Field(min_length=1, max_length=MAX_BODY)
    family_voice: bool = False
    mentions: list[Line] = Field(default_factory=list, max_length=20)


class PostEdited(ForumEvent):
    """The author changed their post; `version` 2 is the first edit. Earlier versions are kept."""

    post_id: Line = Field(min_length=1, max_length=100)
    version: int = Field(ge=2)
    body: Prose = Field(min_length=1, max_length=MAX_BODY)


class PostRedacted(ForumEvent):
    """The lead professional took a post's words out of every view, with a reason."""

    post_id: Line = Field(min_length=1, max_length=100)
    reason: Prose = Field(min_length=3, max_length=2000)


class PostPinned(ForumEvent):
    """The lead pinned a post to the top of the child's forum as a danger statement or a safety goal, or took
    the pin off (`pin` None)."""

    post_id: Line = Field(min_length=1, max_length=100)
    pin: Pin | None
    summary: Prose = Field(default="", max_length=500, description="The start of the post's words.")


class ScaleRecorded(ForumEvent):
    """ "How safe is the child now?", from 0 (certain harm) to 10 (safe enough to close), by one participant."""

    scale_id: Line = Field(min_length=1, max_length=100)
    score: int = Field(ge=0, le=10)
    comment: Prose = Field(default="", max_length=2000)


class MemberMentioned(ForumEvent):
    """A post named a member of the child's team (or family, in a shared thread) who may read it."""

    post_id: Line = Field(min_length=1, max_length=100)
    person_id: Line = Field(min_length=1, max_length=200)
    name: Line = Field(min_length=1, max_length=200)
    confidential: bool = Field(
        default=False,
        description="The person mentioned works for a sensitive service: named only to those who may see them.",
    )


EVENT_TYPES: dict[str, type[ForumEvent]] = {
    THREAD_STARTED: ThreadStarted,
    POST_ADDED: PostAdded,
    POST_EDITED: PostEdited,
    POST_REDACTED: PostRedacted,
    POST_PINNED: PostPinned,
    SCALE_RECORDED: ScaleRecorded,
    MEMBER_MENTIONED: MemberMentioned,
}
TYPE_OF: dict[type[ForumEvent], str] = {model: name for name, model in EVENT_TYPES.items()}
EVENT_SCHEMAS: dict[tuple[str, int], type[BaseModel]] = {
    (name, 1): Envelope[model]  # type: ignore[valid-type]
    for name, model in EVENT_TYPES.items()
}


class ForumEventEnvelope(EnvelopeBase):
    """Any record of `forum.events`, for the AsyncAPI document: the envelope's `type` says which `data`."""

    data: ThreadStarted | PostAdded | PostEdited | PostRedacted | PostPinned | ScaleRecorded | MemberMentioned


def decode_forum_event(topic: str, value: bytes) -> Envelope[ForumEvent]:
    """Validate one record from `forum.events`; raises with a reason fit for the dead-letter headers."""
    raw = RawEnvelope.model_validate_json(value)
    model = EVENT_TYPES.get(raw.type)
    if model is None:
        raise ValueError(f"unknown event type {raw.type!r} on {topic}")
    if raw.version != 1:
        raise ValueError(f"unsupported version {raw.version} of {raw.type}; this consumer reads version 1")
    data: ForumEvent = model.model_validate(raw.data)
    if data.child_id != raw.subject:
        raise ValueError(f"subject {raw.subject!r} is not the event's child {data.child_id!r}")
    # Unparametrised on purpose, as in shared.contracts.accounts: the subclass's fields are kept.
    envelope: Envelope[ForumEvent] = Envelope(**raw.model_dump(exclude={"data"}), data=data)
    return envelope
