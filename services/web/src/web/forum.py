"""The forum backend as the web reads it: its client (called with the signed-in person's token, like every
backend) and its own copies of the fields the forum section shows (see web.models)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
from pydantic import Field

from web.clients import Backend
from web.models import Read

TAG_LABELS = {
    "worry": "What are we worried about?",
    "working_well": "What is working well?",
    "next_step": "What needs to happen?",
}
SHORT_TAGS = {"worry": "Worry", "working_well": "Working well", "next_step": "Next step"}
KIND_LABELS = {"observation": "Observation", "progress": "Progress", "concern": "Concern"}
PIN_LABELS = {"danger_statement": "Danger statement", "safety_goal": "Safety goal"}
AUDIENCE_LABELS = {
    "practitioners": "Practitioners only",
    "family": "Shared with the family",
}


class Participant(Read):
    person_id: str
    name: str
    kind: str
    role: str | None = None
    agency: str | None = None


class Mention(Read):
    person_id: str
    name: str


class ForumPost(Read):
    post_id: str
    thread_id: str
    audience: str
    reply_to: str | None = None
    tag: str
    kind: str
    author: Participant
    family_voice: bool = False
    html: str = ""
    created_at: datetime
    version: int = 1
    edited_at: datetime | None = None
    mentions: list[Mention] = Field(default_factory=list)
    pin: str | None = None
    redacted: bool = False
    redaction_reason: str | None = None


class ForumThread(Read):
    thread_id: str
    title: str
    audience: str
    started_by: Participant
    started_at: datetime
    posts: list[ForumPost]


class Scale(Read):
    scale_id: str
    thread_id: str
    audience: str
    person: Participant
    score: int
    comment: str = ""
    at: datetime


class Columns(Read):
    worry: list[ForumPost] = Field(default_factory=list)
    working_well: list[ForumPost] = Field(default_factory=list)
    next_step: list[ForumPost] = Field(default_factory=list)


class Board(Read):
    child_id: str
    family_view: bool
    can_moderate: bool = False
    threads: list[ForumThread]
    pinned: list[ForumPost]
    columns: Columns
    scales: list[Scale]
    scale_history: list[Scale]


class WordingReport(Read):
    reading_age: float
    grade: float
    jargon: list[str]
    plain: bool
    advice: list[str]


class ForumClient(Backend):
    """The child's forum: threads, posts, pins, redactions, safety scales and the plain-language check."""

    service = "forum"

    async def board(self, child_id: str, *, token: str) -> Board:
        return await self.get(Board, f"/children/{child_id}/forum", token=token)

    async def search(self, child_id: str, *, token: str, q: str) -> list[ForumPost]:
        return await self.get_list(
            ForumPost, f"/children/{child_id}/forum/search", token=token, params={"q": q}
        )

    async def export(self, child_id: str, *, token: str) -> httpx.Response:
        return await self.request("GET", f"/children/{child_id}/forum/export", token=token)

    async def _send(self, method: str, path: str, *, token: str, json: Any) -> None:
        await self.request(method, path, token=token, json=json)

    async def start_thread(self, child_id: str, *, token: str, thread: dict[str, Any]) -> None:
        await self._send("POST", f"/children/{child_id}/forum/threads", token=token, json=thread)

    async def add_post(self, child_id: str, thread_id: str, *, token: str, post: dict[str, Any]) -> None:
        path = f"/children/{child_id}/forum/threads/{thread_id}/posts"
        await self._send("POST", path, token=token, json=post)

    async def record_scale(
        self, child_id: str, thread_id: str, *, token: str, score: int, comment: str
    ) -> None:
        path = f"/children/{child_id}/forum/threads/{thread_id}/scales"
        await self._send("POST", path, token=token, json={"score": score, "comment": comment})

    async def pin(self, child_id: str, post_id: str, *, token: str, pin: str | None) -> None:
        path = f"/children/{child_id}/forum/posts/{post_id}/pin"
        await self._send("PUT", path, token=token, json={"pin": pin})

    async def redact(self, child_id: str, post_id: str, *, token: str, reason: str) -> None:
        path = f"/children/{child_id}/forum/posts/{post_id}/redact"
        await self._send("POST", path, token=token, json={"reason": reason})

    async def check_wording(self, child_id: str, *, token: str, text: str) -> WordingReport:
        response = await self.request(
            "POST", f"/children/{child_id}/forum/wording", token=token, json={"text": text}
        )
        return self._parse(WordingReport, response)
