"""What the forum's routes take and answer: requests checked at the boundary, and the views of a forum."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.forum import MAX_BODY, Audience, Participant, Pin, PostKind, Tag
from shared.text import Line, Prose

MAX_TITLE = 200
MAX_COMMENT = 2000


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PostCreate(_Request):
    body: Prose = Field(min_length=1, max_length=MAX_BODY, description="Markdown; rendered and cleaned.")
    tag: Tag = Field(description="Signs of Safety: worry, working_well or next_step.")
    kind: PostKind = Field(description="observation, progress or concern.")
    reply_to: Line | None = Field(default=None, max_length=100, description="The post this answers.")
    mentions: list[Line] = Field(
        default_factory=list, max_length=20, description="Person ids of team members to notify."
    )


class ThreadCreate(_Request):
    title: Line = Field(min_length=1, max_length=MAX_TITLE)
    audience: Audience = Field(
        description="practitioners: the team only; family: shared with the family. Fixed once started."
    )
    first_post: PostCreate


class PostEdit(_Request):
    body: Prose = Field(min_length=1, max_length=MAX_BODY)


class Redaction(_Request):
    reason: Prose = Field(min_length=3, max_length=2000, description="Why: it is recorded and shown.")


class PinChange(_Request):
    pin: Pin | None = Field(description="danger_statement, safety_goal, or null to take the pin off.")


class ScaleCreate(_Request):
    score: int = Field(ge=0, le=10, description="How safe is the child now: 0 (harm certain) to 10 (safe).")
    comment: Prose = Field(default="", max_length=MAX_COMMENT)


class WordingCheck(_Request):
    text: Prose = Field(max_length=MAX_BODY)


class Mention(BaseModel):
    person_id: str
    name: str
    confidential: bool = False  # a sensitive service's practitioner, shown as `author` would be (BRIEF §3)


class PostVersion(BaseModel):
    version: int
    body: str
    html: str
    at: datetime


class PostRead(BaseModel):
    post_id: str
    thread_id: str
    audience: Audience = Field(description="Who can read this post: fixed by its thread.")
    reply_to: str | None
    tag: Tag
    kind: PostKind
    author: Participant
    family_voice: bool = Field(description="The family's or the child's own words: only they edit them.")
    body: str = Field(description="Markdown source as written (empty once redacted).")
    html: str = Field(description="The body rendered and sanitised: safe to insert in a page.")
    created_at: datetime
    version: int
    edited_at: datetime | None = None
    mentions: list[Mention] = Field(default_factory=list)
    pin: Pin | None = None
    redacted: bool = False
    redaction_reason: str | None = None


class ThreadRead(BaseModel):
    thread_id: str
    title: str
    audience: Audience
    started_by: Participant
    started_at: datetime
    posts: list[PostRead]


class ScaleRead(BaseModel):
    scale_id: str
    thread_id: str
    audience: Audience
    person: Participant
    score: int
    comment: str
    at: datetime


class Columns(BaseModel):
    """The Signs of Safety three columns, from the tagged posts the reader may see."""

    worry: list[PostRead] = Field(default_factory=list, description="What are we worried about?")
    working_well: list[PostRead] = Field(default_factory=list, description="What is working well?")
    next_step: list[PostRead] = Field(default_factory=list, description="What needs to happen?")


class Board(BaseModel):
    """A child's forum as the reader may see it."""

    child_id: str
    family_view: bool
    can_moderate: bool = Field(description="The reader may pin and redact (the lead professional).")
    threads: list[ThreadRead]
    pinned: list[PostRead]
    columns: Columns
    scales: list[ScaleRead] = Field(description="Each participant's latest safety scale.")
    scale_history: list[ScaleRead] = Field(description="Every scale recorded, oldest first.")


class WordingReport(BaseModel):
    """The plain-language check: flags, never blocks."""

    reading_age: float = Field(description="Approximate reading age in years (Flesch-Kincaid grade + 5).")
    grade: float
    jargon: list[str] = Field(description="Professional words the family may not know.")
    plain: bool = Field(description="Reading age 12 or under and no jargon.")
    advice: list[str]
