"""The authorization matrix of the forum: every forum route by every role and relationship to the child.

Accounts runs in-process against the real broker and MongoDB-wire server (as in test_authorization_matrix)
and publishes the child's team to `accounts.events`; the forum runs in-process too, learns the team from that
topic, and trusts accounts' signing key. Each persona calls each route with its own token. A route of the
forum that has no case here fails `test_the_matrix_covers_every_forum_route`.

Beyond the policy's yes or no, the forum's own rules show: a family member is refused in a practitioner-only
thread (403), and a post is edited by its author only (422 for anyone else who may post).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from accounts.people.models import Person
from devstack.infra import Endpoints
from forum.app import create_app
from forum.settings import ForumSettings
from shared import mongo
from shared.audit import MemoryAuditSink
from testsupport.accounts import PERSONAS, RunningAccounts, World, add_personas, build_world, running_accounts
from testsupport.offline import eventually_async

pytestmark = pytest.mark.integration

ANONYMOUS = "anonymous"
EVERYONE = [*PERSONAS, ANONYMOUS]
TEAM = {"lead", "member", "manager_member"}
FAMILY = {"parent", "the_child"}
READ_TEAM = TEAM | {"break_glass"}  # break-glass reads, never writes
MODERATORS = {"lead", "manager_member"}  # the lead, and a manager in the team
PUBLIC_ROUTES = {("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics"), ("GET", "/asyncapi.json")}
POST = {"body": "Seen at school today.", "tag": "worry", "kind": "observation"}


@dataclass
class Setup:
    accounts: RunningAccounts
    forum: httpx.AsyncClient
    app: FastAPI
    people: dict[str, Person]
    world: World
    private_thread: str = ""
    shared_thread: str = ""
    lead_post: str = ""

    def headers(self, persona: str) -> dict[str, str]:
        return {} if persona == ANONYMOUS else self.accounts.headers(self.people[persona])

    async def as_lead(self, method: str, path: str, body: Any) -> dict[str, Any]:
        answer = await self.forum.request(method, path, json=body, headers=self.headers("lead"))
        assert answer.status_code in (200, 201), answer.text
        found: dict[str, Any] = answer.json()
        return found

    async def new_post(self) -> str:
        child = self.world.child_id
        post = await self.as_lead("POST", f"/children/{child}/forum/threads/{self.shared_thread}/posts", POST)
        return str(post["post_id"])


Request = tuple[str, str, dict[str, Any] | None]


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    route: str
    request: Callable[[Setup], Awaitable[Request]]
    allowed: frozenset[str]
    ok: int = 200
    rule_refused: frozenset[str] = frozenset()  # may do the action, but a forum rule says no: 422


def _c(
    name: str,
    method: str,
    route: str,
    request: Callable[[Setup], Awaitable[Request]],
    allowed: set[str],
    ok: int = 200,
    rule_refused: set[str] | None = None,
) -> Case:
    return Case(name, method, route, request, frozenset(allowed), ok, frozenset(rule_refused or ()))


def _path(template: str) -> Callable[[Setup], Awaitable[Request]]:
    async def request(s: Setup) -> Request:
        path = template.format(
            child=s.world.child_id, private=s.private_thread, shared=s.shared_thread, post=s.lead_post
        )
        return "GET", path, None

    return request


def _send(
    method: str, template: str, body: dict[str, Any], *, fresh_post: bool = False
) -> Callable[[Setup], Awaitable[Request]]:
    async def request(s: Setup) -> Request:
        post = await s.new_post() if fresh_post else s.lead_post
        path = template.format(
            child=s.world.child_id, private=s.private_thread, shared=s.shared_thread, post=post
        )
        return method, path, body

    return request


def _thread(audience: str) -> dict[str, Any]:
    return {"title": "A conversation", "audience": audience, "first_post": POST}


BASE = "/children/{child_id}/forum"
CASES: list[Case] = [
    _c("the forum", "GET", BASE, _path("/children/{child}/forum"), READ_TEAM | FAMILY),
    _c(
        "a practitioner-only thread",
        "GET",
        BASE + "/threads/{thread_id}",
        _path("/children/{child}/forum/threads/{private}"),
        READ_TEAM,
    ),
    _c(
        "a shared thread",
        "GET",
        BASE + "/threads/{thread_id}",
        _path("/children/{child}/forum/threads/{shared}"),
        READ_TEAM | FAMILY,
    ),
    _c(
        "start a practitioner-only thread",
        "POST",
        BASE + "/threads",
        _send("POST", "/children/{child}/forum/threads", _thread("practitioners")),
        TEAM,
        201,
    ),
    _c(
        "start a shared thread",
        "POST",
        BASE + "/threads",
        _send("POST", "/children/{child}/forum/threads", _thread("family")),
        TEAM | FAMILY,
        201,
    ),
    _c(
        "post in a practitioner-only thread",
        "POST",
        BASE + "/threads/{thread_id}/posts",
        _send("POST", "/children/{child}/forum/threads/{private}/posts", POST),
        TEAM,
        201,
    ),
    _c(
        "post in a shared thread",
        "POST",
        BASE + "/threads/{thread_id}/posts",
        _send("POST", "/children/{child}/forum/threads/{shared}/posts", POST),
        TEAM | FAMILY,
        201,
    ),
    _c(
        "record a scale in a shared thread",
        "POST",
        BASE + "/threads/{thread_id}/scales",
        _send("POST", "/children/{child}/forum/threads/{shared}/scales", {"score": 5, "comment": "so-so"}),
        TEAM | FAMILY,
        201,
    ),
    _c(
        "edit the lead's post",
        "PUT",
        BASE + "/posts/{post_id}",
        _send("PUT", "/children/{child}/forum/posts/{post}", {"body": "Seen at school on Monday."}),
        {"lead"},
        rule_refused={"member", "manager_member", "parent", "the_child"},
    ),
    _c(
        "a post's versions",
        "GET",
        BASE + "/posts/{post_id}/versions",
        _path("/children/{child}/forum/posts/{post}/versions"),
        READ_TEAM | FAMILY,
    ),
    _c(
        "pin a post",
        "PUT",
        BASE + "/posts/{post_id}/pin",
        _send("PUT", "/children/{child}/forum/posts/{post}/pin", {"pin": "safety_goal"}, fresh_post=True),
        MODERATORS,
    ),
    _c(
        "redact a post",
        "POST",
        BASE + "/posts/{post_id}/redact",
        _send(
            "POST",
            "/children/{child}/forum/posts/{post}/redact",
            {"reason": "names a third party"},
            fresh_post=True,
        ),
        MODERATORS,
    ),
    _c(
        "search the forum",
        "GET",
        BASE + "/search",
        _path("/children/{child}/forum/search?q=school"),
        READ_TEAM | FAMILY,
    ),
    _c("export the forum", "GET", BASE + "/export", _path("/children/{child}/forum/export"), TEAM | FAMILY),
    _c(
        "the plain-language check",
        "POST",
        BASE + "/wording",
        _send("POST", "/children/{child}/forum/wording", {"text": "A CIN plan."}),
        TEAM | FAMILY,
    ),
]


@pytest.fixture(scope="module")
async def setup(infra: Endpoints) -> AsyncIterator[Setup]:
    async with running_accounts(
        kafka_bootstrap=infra.kafka_bootstrap,
        kafka_admin=infra.kafka_admin,
        kafka_credentials=infra.kafka_user("accounts"),
        mongo_url=infra.mongo_url,
    ) as accounts:
        people = await add_personas(accounts)
        world = await build_world(accounts.ctx, people)
        database = f"test_{uuid.uuid4().hex}"
        settings = ForumSettings(
            kafka_bootstrap=infra.kafka_bootstrap,
            mongo_url=infra.mongo_url,
            mongo_db=database,
            consumer_group_suffix=f"-{uuid.uuid4().hex[:8]}",
            auth_jwks=json.dumps(accounts.keys.jwks()),
        )
        app = create_app(settings, audit_sink=MemoryAuditSink())
        try:
            async with (
                app.router.lifespan_context(app),
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://forum") as http,
            ):
                s = Setup(accounts, http, app, people, world)
                await _seed(s)
                yield s
        finally:
            client = mongo.connect(infra.mongo_url, app_name="test")
            await client.drop_database(database)
            await client.close()


async def _seed(s: Setup) -> None:
    """Wait until the forum knows the child's whole team (the last change is the child's family), then open
    the threads the cases use."""
    child = s.world.child_id

    async def knows_the_family() -> bool:
        answer = await s.forum.get(f"/children/{child}/forum", headers=s.headers("the_child"))
        return answer.status_code == 200

    await eventually_async(knows_the_family, what="the forum learning the child's team from accounts.events")
    private = await s.as_lead("POST", f"/children/{child}/forum/threads", _thread("practitioners"))
    shared = await s.as_lead("POST", f"/children/{child}/forum/threads", _thread("family"))
    s.private_thread, s.shared_thread = private["thread_id"], shared["thread_id"]
    s.lead_post = shared["posts"][0]["post_id"]


def _expected(case: Case, persona: str) -> int:
    if persona == ANONYMOUS:
        return 401
    if persona in case.rule_refused:
        return 422
    return case.ok if persona in case.allowed else 403


@pytest.mark.parametrize("persona", EVERYONE)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
async def test_every_forum_route_by_every_role_and_relationship(
    setup: Setup, case: Case, persona: str
) -> None:
    method, path, body = await case.request(setup)
    answer = await setup.forum.request(method, path, json=body, headers=setup.headers(persona))
    assert answer.status_code == _expected(case, persona), answer.text


def test_the_matrix_covers_every_forum_route(setup: Setup) -> None:
    routes = {(m.upper(), p) for p, ops in setup.app.openapi()["paths"].items() for m in ops}
    assert ("GET", BASE) in routes
    covered = {(c.method, c.route) for c in CASES} | PUBLIC_ROUTES
    assert routes - covered == set(), "add these forum routes to the authorization matrix"
