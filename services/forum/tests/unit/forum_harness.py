"""The forum built by `create_app` on in-memory fakes, for unit tests: no server; account events through
FastStream's in-memory broker, routes over ASGI, what was published recorded."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from faststream.kafka import KafkaBroker, TestKafkaBroker
from forum_fakes import FakeForumStore

from forum.app import create_app
from forum.settings import ForumSettings
from shared.audit import MemoryAuditSink
from shared.contracts.accounts import Actor, JoinApproved, JoinRequested, account_event
from shared.events import Envelope
from shared.kafka.broker import publish_event
from shared.policy import PrincipalKind
from shared.service import Runtime
from shared.topics import Topics
from testsupport.events import account_opened, new_nhs_number, person
from testsupport.identities import Identities
from testsupport.memory import MemoryAccessSnapshots
from testsupport.offline import Sent, offline_settings, record_published

IDS = Identities()
LEAD, PARENT, TEACHER, STRANGER = "lead-1", "parent-1", "teacher-1", "stranger-1"
TOPICS = Topics(prefix="unit.")


@dataclass
class Forum:
    store: FakeForumStore
    audit: MemoryAuditSink
    runtime: Runtime
    broker: KafkaBroker
    http: httpx.AsyncClient
    sent: list[Sent]

    async def open_account(
        self, *, teacher: bool = False, confidential: bool = False, shielded: bool = False
    ) -> str:
        child = new_nhs_number()
        events = account_opened(child, lead_id=LEAD, family_id=PARENT, shielded=shielded)
        if teacher:
            events += _joined(child, TEACHER, seq=3, sensitive=confidential)
        for event in events:
            await publish_event(self.broker, TOPICS.accounts_events, event)
        return child

    async def call(self, method: str, path: str, *, who: str = LEAD, json: Any = None) -> httpx.Response:
        kind: PrincipalKind = "family" if who == PARENT else "practitioner"
        return await self.http.request(method, path, json=json, headers=IDS.headers(who, kind=kind))

    async def thread(self, child: str, *, audience: str, who: str = LEAD, **post: Any) -> dict[str, Any]:
        first = {"body": "First words.", "tag": "worry", "kind": "concern", **post}
        body = {"title": f"A {audience} thread", "audience": audience, "first_post": first}
        answer = await self.call("POST", f"/children/{child}/forum/threads", who=who, json=body)
        assert answer.status_code == 201, answer.text
        thread: dict[str, Any] = answer.json()
        return thread

    async def board(self, child: str, *, who: str = LEAD) -> dict[str, Any]:
        answer = await self.call("GET", f"/children/{child}/forum", who=who)
        assert answer.status_code == 200, answer.text
        board: dict[str, Any] = answer.json()
        return board


def _joined(child: str, who: str, *, seq: int, sensitive: bool = False) -> list[Envelope[Any]]:
    actor = Actor(person_id=LEAD, name="Test lead", kind="practitioner")
    now = datetime.now(UTC)
    return [
        account_event(
            JoinRequested(
                child_id=child,
                seq=seq,
                actor=actor,
                at=now,
                request_id="r",
                person=person(who, sensitive=sensitive),
                reason="DSL",
            )
        ),
        account_event(
            JoinApproved(
                child_id=child,
                seq=seq + 1,
                actor=actor,
                at=now,
                request_id="r",
                person=person(who, sensitive=sensitive),
            )
        ),
    ]


@asynccontextmanager
async def running_forum() -> AsyncIterator[Forum]:
    """The forum app on in-memory fakes and the in-memory broker, with an ASGI client."""
    store, snapshots, audit = FakeForumStore(), MemoryAccessSnapshots(), MemoryAuditSink()
    settings = ForumSettings(**offline_settings(IDS), topic_prefix=TOPICS.prefix)
    app = create_app(settings, store=store, snapshots=snapshots, audit_sink=audit)
    runtime: Runtime = app.state.runtime
    sent = record_published(runtime.broker, [TOPICS.forum_events])
    async with (
        TestKafkaBroker(runtime.broker) as broker,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://forum") as http,
    ):
        yield Forum(store, audit, runtime, broker, http, sent)
