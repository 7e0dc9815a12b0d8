"""What the notifications integration tests share: the service as a real HTTP server (uvicorn, so the live
stream really streams) on the real broker and MongoDB-wire server, an SMTP server on loopback (aiosmtpd),
and a reader of Server-Sent Events."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import Message
from typing import Any

import httpx
import uvicorn
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from fastapi import FastAPI
from faststream.kafka import KafkaBroker

from devstack import service_users
from devstack.infra import Endpoints
from notifications.app import create_app
from notifications.settings import NotificationsSettings
from shared import mongo
from shared.access import AccessSnapshots
from shared.events import Envelope as EventEnvelope
from shared.kafka.broker import publish_event
from shared.topics import Topics, ensure_topics
from testsupport.identities import Identities
from testsupport.offline import eventually_async
from testsupport.services import free_port

IDS = Identities()


class Mailbox:
    """An aiosmtpd handler that keeps every message; it refuses the first `refuse` deliveries (451)."""

    def __init__(self, refuse: int = 0) -> None:
        self.messages: list[Message] = []
        self.refused = 0
        self._refuse = refuse

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.refused < self._refuse:
            self.refused += 1
            return "451 4.3.0 try again later"
        self.messages.append(message_from_bytes(envelope.content or b""))  # type: ignore[arg-type]
        return "250 OK"


@contextlib.contextmanager
def smtp_server(mailbox: Mailbox) -> Any:
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


@dataclass
class Service:
    """One running notifications process (in this test process), its topics and database."""

    app: FastAPI
    base_url: str
    topics: Topics
    database: str
    settings: NotificationsSettings

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.base_url, timeout=10)

    async def until_members(self, child_id: str, *people: str) -> None:
        """Wait until the service's access snapshot of the child has these people on the team: the rules read
        the team from it, and it is kept by another consumer than the one an agency's contact arrives on."""
        client = mongo.connect(self.settings.mongo_url, app_name="test")
        snapshots = AccessSnapshots(client[self.database])

        async def on_team() -> bool:
            access = await snapshots.get(child_id)
            return access is not None and all(access.member(p) for p in people)

        try:
            await eventually_async(on_team, what=f"{people} on {child_id}'s team", within=30, every=0.1)
        finally:
            await client.close()


def settings_for(
    infra: Endpoints, topics: Topics, database: str, smtp_port: int, **extra: Any
) -> NotificationsSettings:
    return NotificationsSettings(
        kafka_bootstrap=infra.kafka_bootstrap,
        mongo_url=infra.mongo_url,
        mongo_db=database,
        topic_prefix=topics.prefix,
        consumer_group_suffix=f"-{uuid.uuid4().hex[:8]}",
        auth_jwks=IDS.jwks_json(),
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        email_backoff_s=0.2,
        email_poll_s=0.1,
        stream_poll_s=0.5,
        batch_max_records=200,
        **extra,
    )


async def run_topics(infra: Endpoints) -> Topics:
    topics = Topics(prefix=f"t{uuid.uuid4().hex[:8]}.")
    await ensure_topics(infra.kafka_bootstrap, topics.all(), credentials=infra.kafka_admin)
    service_users.grant_run(infra.kafka_bootstrap, topics)
    return topics


@contextlib.asynccontextmanager
async def serving(
    settings: NotificationsSettings, topics: Topics, **overrides: Any
) -> AsyncIterator[Service]:
    """The app under uvicorn on a free loopback port, until the block ends (a clean SIGTERM-like stop);
    `overrides` go to `create_app` (a clock, say)."""
    app = create_app(settings, **overrides)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.05)
        yield Service(app, f"http://127.0.0.1:{port}", topics, settings.mongo_db, settings)
    finally:
        server.should_exit = True
        await task


@dataclass
class Clock:
    """The service's clock: real time moved by `offset` (to bring the digest's hour near)."""

    offset: timedelta = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@dataclass
class Publisher:
    broker: KafkaBroker

    async def __call__(self, topic: str, *events: EventEnvelope[Any]) -> None:
        for event in events:
            await publish_event(self.broker, topic, event)


@dataclass
class Stream:
    """A live stream being read in the background: the events so far, and the status it answered."""

    status: int = 0
    events: list[dict[str, Any]] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)

    def kinds(self) -> list[str]:
        return [e["kind"] for e in self.events]


@contextlib.asynccontextmanager
async def reading(service: Service, who: str, *, last_event_id: str | None = None) -> AsyncIterator[Stream]:
    """Read `who`'s live stream in the background while the block runs."""
    stream = Stream()
    headers = IDS.headers(who)
    if last_event_id:
        headers["Last-Event-ID"] = last_event_id
    started = asyncio.Event()

    async def read() -> None:
        async with (
            httpx.AsyncClient(base_url=service.base_url, timeout=None) as http,
            http.stream("GET", "/notifications/stream", headers=headers) as response,
        ):
            stream.status = response.status_code
            started.set()
            event: dict[str, str] = {}
            async for line in response.aiter_lines():
                if line == "":
                    if event.get("event") == "notification":
                        stream.ids.append(event["id"])
                        stream.events.append(json.loads(event["data"]))
                    event = {}
                elif ":" in line and not line.startswith(":"):
                    name, _, value = line.partition(":")
                    event[name] = value.removeprefix(" ")

    task = asyncio.create_task(read())
    try:
        await asyncio.wait_for(started.wait(), 10)
        yield stream
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
