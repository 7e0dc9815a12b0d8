"""The authorization matrix of every service that serves a child's data but accounts (issue 9, "Done when"):
chronology, analytics, notifications and the web, every route by every role and relationship to the child.

The same people and the same child as accounts' matrix (`testsupport.accounts.PERSONAS`, `build_world`):
accounts runs in-process and publishes the team's history on this module's own topics; chronology and
analytics, in-process too, learn who may see the child only from those events, exactly as in production, over
the real broker and the real MongoDB-wire server. The web calls the three apps through one transport that
routes by host name, with each person's session cookie, so its answers are the pages people get. An agency
publishes one contact, so that the child has an entry to read, mark and export.

Each service's table must name every route it serves: a route added without its cases fails
`test_the_matrix_covers_every_route_of_every_service`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from accounts.people.models import Person
from analytics.app import create_app as analytics_app
from analytics.settings import AnalyticsSettings
from chronology.app import create_app as chronology_app
from chronology.settings import ChronologySettings
from devstack import service_users
from devstack.infra import Endpoints
from forum.app import create_app as forum_app
from forum.settings import ForumSettings
from notifications.app import create_app as notifications_app
from notifications.settings import NotificationsSettings
from shared import mongo
from shared.audit import MemoryAuditSink
from shared.topics import Topics, ensure_topics
from testsupport.accounts import PERSONAS, RunningAccounts, World, add_personas, build_world, running_accounts
from testsupport.agency import Agency, contact_event_json
from testsupport.offline import eventually_async
from web import security
from web.app import create_app as web_app
from web.settings import WebSettings

pytestmark = pytest.mark.integration

ANONYMOUS = "anonymous"
EVERYONE = [*PERSONAS, ANONYMOUS]
SIGNED_IN = frozenset(PERSONAS)
FAMILY = frozenset({"parent", "the_child"})
TEAM = frozenset({"lead", "member", "manager_member"})
READERS = TEAM | FAMILY | {"break_glass"}  # read_chronology, read_graph: the case, as each may see it
EXPORTERS = TEAM | FAMILY  # a break-glass grant reads; it does not take the case away
MARKERS = frozenset({"lead", "manager_member"})  # the lead, or a manager in the team
HEADER_READERS = READERS | {"line_manager"}
POSTERS = (
    TEAM | FAMILY
)  # in a thread shared with the family; break-glass reads, it does not post  # who the child is: also the lead's line manager
DECIDERS = frozenset({"lead", "manager_member", "line_manager"})
PRACTITIONERS = frozenset(
    {"lead", "member", "manager_member", "line_manager", "other_manager", "non_member", "pending"}
    | {"break_glass", "left"}
)
OUTSIDERS = frozenset({"line_manager", "other_manager", "non_member", "left"})

Request = Callable[["Stack"], tuple[str, dict[str, Any] | None]]


@dataclass(frozen=True)
class Case:
    """One route: how to call it, who may, and what each kind of caller gets back."""

    name: str
    method: str
    route: str  # as the service declares it, to check every route is in the matrix
    request: Request
    allowed: frozenset[str]
    ok: int = 200
    refused: int = 403
    anonymous: int = 401

    def expected(self, persona: str) -> int:
        if persona == ANONYMOUS:
            return self.anonymous
        return self.ok if persona in self.allowed else self.refused


def _case(
    name: str, method: str, route: str, request: Request, allowed: frozenset[str], **answers: int
) -> Case:
    return Case(name, method, route, request, frozenset(allowed), **answers)


CHRONOLOGY = [
    _case(
        "read the chronology",
        "GET",
        "/children/{child_id}/chronology",
        lambda s: (f"/children/{s.child}/chronology", None),
        READERS,
    ),
    _case(
        "mark an entry significant",
        "PUT",
        "/children/{child_id}/chronology/{entry_id}/significance",
        lambda s: (
            f"/children/{s.child}/chronology/{s.entry_id}/significance",
            {"significant": True, "reason": "pattern of missed visits"},
        ),
        MARKERS,
    ),
    _case(
        "export the chronology as CSV",
        "GET",
        "/children/{child_id}/chronology/export.csv",
        lambda s: (f"/children/{s.child}/chronology/export.csv", None),
        EXPORTERS,
    ),
    _case(
        "print the chronology",
        "GET",
        "/children/{child_id}/chronology/print",
        lambda s: (f"/children/{s.child}/chronology/print", None),
        EXPORTERS,
    ),
]
ANALYTICS = [
    _case(
        "read the contact graph",
        "GET",
        "/children/{child_id}/contact-graph",
        lambda s: (f"/children/{s.child}/contact-graph", None),
        READERS,
    ),
    _case(
        "read the keyword cloud",
        "GET",
        "/children/{child_id}/keyword-cloud",
        lambda s: (f"/children/{s.child}/keyword-cloud", None),
        READERS,
    ),
    _case(
        "list the entries a word came from",
        "GET",
        "/children/{child_id}/keyword-cloud/entries",
        lambda s: (f"/children/{s.child}/keyword-cloud/entries?term=home+visit", None),
        READERS,
    ),
    _case(
        "read the safety-scale history",
        "GET",
        "/children/{child_id}/safety-scales",
        lambda s: (f"/children/{s.child}/safety-scales", None),
        READERS,
    ),
    # The graph, the cloud and the scales in one read; its parts are checked below.
    _case(
        "the page's analytics",
        "GET",
        "/children/{child_id}/overview",
        lambda s: (f"/children/{s.child}/overview", None),
        READERS,
    ),
    _case(
        "draw the contact graph",
        "GET",
        "/children/{child_id}/contact-graph.svg",
        lambda s: (f"/children/{s.child}/contact-graph.svg", None),
        READERS,
    ),
    _case(
        "draw the keyword cloud",
        "GET",
        "/children/{child_id}/keyword-cloud.svg",
        lambda s: (f"/children/{s.child}/keyword-cloud.svg", None),
        READERS,
    ),
    _case(
        "draw the safety scales",
        "GET",
        "/children/{child_id}/safety-scales.svg",
        lambda s: (f"/children/{s.child}/safety-scales.svg", None),
        READERS,
    ),
]
# Notifications are one's own: every signed-in person reads, marks and streams their own inbox and nobody
# else's (test_a_person_sees_only_their_own_inbox); no token, 401.
NOBODYS = "0" * 32  # a notification id in nobody's inbox: marking it marks nothing
NOTIFICATIONS = [
    _case("read my inbox", "GET", "/notifications", lambda s: ("/notifications", None), SIGNED_IN),
    _case(
        "my unread count",
        "GET",
        "/notifications/unread",
        lambda s: ("/notifications/unread", None),
        SIGNED_IN,
    ),
    _case(
        "mark one read",
        "POST",
        "/notifications/{notification_id}/read",
        lambda s: (f"/notifications/{NOBODYS}/read", None),
        SIGNED_IN,
    ),
    _case(
        "mark all read",
        "POST",
        "/notifications/read-all",
        lambda s: ("/notifications/read-all", None),
        SIGNED_IN,
    ),
    _case(
        "my live stream", "GET", "/notifications/stream", lambda s: ("/notifications/stream", None), SIGNED_IN
    ),
    # about my own inbox too: a child I may not see is left out of the answer (test_changes.py), not refused
    _case(
        "what changed since I last looked",
        "GET",
        "/changes",
        lambda s: (f"/changes?child_id={s.child}", None),
        SIGNED_IN,
    ),
    _case("my preferences", "GET", "/preferences", lambda s: ("/preferences", None), SIGNED_IN),
    _case(
        "choose my preferences",
        "PUT",
        "/preferences",
        lambda s: ("/preferences", {"channels": {"break_glass_used": ["in_app", "email"]}}),
        SIGNED_IN,
    ),
]
# The web answers a browser: no sign-in sends it to the sign-in page (303), a refusal is a page saying so.
SIGN_IN = {"anonymous": 303}
WEB = [
    _case("home", "GET", "/", lambda s: ("/", None), SIGNED_IN, ok=303, **SIGN_IN),
    _case("my children", "GET", "/children", lambda s: ("/children", None), SIGNED_IN, **SIGN_IN),
    _case("the find form", "GET", "/find", lambda s: ("/find", None), SIGNED_IN, **SIGN_IN),
    _case(
        "find a child",
        "POST",
        "/find",
        lambda s: ("/find", {"nhs_number": s.nhs_number}),
        PRACTITIONERS,
        **SIGN_IN,
    ),
    _case(
        "ask to join",
        "POST",
        "/children/{child_id}/join",
        lambda s: (f"/children/{s.other_child}/join", {"reason": "working with the family now"}),
        PRACTITIONERS - {"lead"},
        ok=303,
        **SIGN_IN,
    ),
    _case("requests to decide", "GET", "/requests", lambda s: ("/requests", None), SIGNED_IN, **SIGN_IN),
    _case(
        "decline a request",
        "POST",
        "/children/{child_id}/requests/{request_id}/{verb}",
        lambda s: (
            f"/children/{s.child}/requests/{s.world.pending_request_id}/decline",
            {"reason": "no role with this child"},
        ),
        DECIDERS,
        ok=303,
        **SIGN_IN,
    ),
    _case(
        "the child's page",
        "GET",
        "/children/{child_id}",
        lambda s: (f"/children/{s.child}", None),
        HEADER_READERS,
        **SIGN_IN,
    ),
    _case(
        "mark an entry significant",
        "POST",
        "/children/{child_id}/entries/{entry_id}/significance",
        lambda s: (
            f"/children/{s.child}/entries/{s.entry_id}/significance",
            {"significant": "true", "reason": "pattern of missed visits"},
        ),
        MARKERS,
        ok=303,
        **SIGN_IN,
    ),
    _case(
        "download the chronology",
        "GET",
        "/children/{child_id}/chronology.csv",
        lambda s: (f"/children/{s.child}/chronology.csv", None),
        EXPORTERS,
        **SIGN_IN,
    ),
    _case(
        "print the chronology",
        "GET",
        "/children/{child_id}/chronology/print",
        lambda s: (f"/children/{s.child}/chronology/print", None),
        EXPORTERS,
        **SIGN_IN,
    ),
    _case(
        "my notifications", "GET", "/notifications", lambda s: ("/notifications", None), SIGNED_IN, **SIGN_IN
    ),
    _case(
        "open a notification",
        "POST",
        "/notifications/{notification_id}/open",
        lambda s: (f"/notifications/{NOBODYS}/open", {}),
        SIGNED_IN,
        ok=303,
        **SIGN_IN,
    ),
    _case(
        "mark all notifications read",
        "POST",
        "/notifications/read-all",
        lambda s: ("/notifications/read-all", {}),
        SIGNED_IN,
        ok=303,
        **SIGN_IN,
    ),
    _case(
        "the bell's count",
        "GET",
        "/notifications/unread.json",
        lambda s: ("/notifications/unread.json", None),
        SIGNED_IN,
        **SIGN_IN,
    ),
    _case(
        "my live notifications",
        "GET",
        "/notifications/live",
        lambda s: ("/notifications/live", None),
        SIGNED_IN,
        **SIGN_IN,
    ),
    _case("my preferences", "GET", "/preferences", lambda s: ("/preferences", None), SIGNED_IN, **SIGN_IN),
    _case(
        "save my preferences",
        "POST",
        "/preferences",
        lambda s: ("/preferences", {"join_requested.in_app": "on"}),
        SIGNED_IN,
        ok=303,
        **SIGN_IN,
    ),
    _case("sign out", "POST", "/sign-out", lambda s: ("/sign-out", {}), SIGNED_IN, ok=303, **SIGN_IN),
    _case(
        "start a forum thread",
        "POST",
        "/children/{child_id}/forum/threads",
        lambda s: (
            f"/children/{s.child}/forum/threads",
            {
                "title": "How school is going",
                "audience": "family",
                "body": "Settling in well.",
                "tag": "working_well",
            },
        ),
        POSTERS,
        ok=303,
        **SIGN_IN,
    ),
    _case(
        "post in a forum thread",
        "POST",
        "/children/{child_id}/forum/threads/{thread_id}/posts",
        lambda s: (
            f"/children/{s.child}/forum/threads/{s.thread_id}/posts",
            {"body": "Attendance is up this week.", "tag": "working_well"},
        ),
        POSTERS,
        ok=303,
        **SIGN_IN,
    ),
    _case(
        "record a safety scale",
        "POST",
        "/children/{child_id}/forum/threads/{thread_id}/scales",
        lambda s: (
            f"/children/{s.child}/forum/threads/{s.thread_id}/scales",
            {"score": "6", "comment": "Better"},
        ),
        POSTERS,
        ok=303,
        **SIGN_IN,
    ),
    _case(
        "pin a forum post",
        "POST",
        "/children/{child_id}/forum/posts/{post_id}/pin",
        lambda s: (f"/children/{s.child}/forum/posts/{s.post_id}/pin", {"pin": "safety_goal"}),
        MARKERS,
        ok=303,
        **SIGN_IN,
    ),
    _case(
        "redact a forum post",
        "POST",
        "/children/{child_id}/forum/posts/{post_id}/redact",
        lambda s: (
            f"/children/{s.child}/forum/posts/{s.post_id}/redact",
            {"reason": "names a third party by mistake"},
        ),
        MARKERS,
        ok=303,
        **SIGN_IN,
    ),
    _case(
        "search the forum",
        "GET",
        "/children/{child_id}/forum/search",
        lambda s: (f"/children/{s.child}/forum/search?q=school", None),
        READERS,
        **SIGN_IN,
    ),
    _case(
        "download the forum",
        "GET",
        "/children/{child_id}/forum/export.json",
        lambda s: (f"/children/{s.child}/forum/export.json", None),
        EXPORTERS,
        **SIGN_IN,
    ),
]
# Routes everyone may call: health, metrics, documents, and the sign-in page itself.
OPEN = {"/healthz", "/readyz", "/metrics", "/asyncapi.json", "/sign-in"}
# A request can be declined once: each person allowed to decline gets a pending request of their own. (Each
# person asks to join the other child once, and marking an entry significant again changes nothing.)
CHANGES = {"decline a request", "redact a forum post"}


@dataclass
class Stack:
    accounts: RunningAccounts
    apps: dict[str, FastAPI]
    clients: dict[str, httpx.AsyncClient]
    people: dict[str, Person]
    world: World
    nhs_number: str
    entry_id: str
    audit: MemoryAuditSink
    thread_id: str = ""
    post_id: str = ""

    @property
    def child(self) -> str:
        return self.world.child_id

    @property
    def other_child(self) -> str:
        return self.world.other_child_id

    def token(self, persona: str) -> str:
        return self.accounts.headers(self.people[persona])["Authorization"].removeprefix("Bearer ")


class ByHost(httpx.AsyncBaseTransport):
    """The web's backends, in-process: a request to http://chronology/... goes to chronology's app."""

    def __init__(self, apps: dict[str, FastAPI]) -> None:
        self._transports = {name: httpx.ASGITransport(app=app) for name, app in apps.items()}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._transports[request.url.host].handle_async_request(request)


@pytest.fixture(scope="module")
async def stack(infra: Endpoints) -> AsyncIterator[Stack]:
    topics = Topics(prefix=f"t{uuid.uuid4().hex[:8]}.")
    await ensure_topics(infra.kafka_bootstrap, topics.all(), credentials=infra.kafka_admin)
    service_users.grant_run(infra.kafka_bootstrap, topics)
    suffix = f"-matrix-{uuid.uuid4().hex[:8]}"
    databases: list[str] = []
    audit = MemoryAuditSink()
    async with AsyncExitStack() as stack:
        accounts = await stack.enter_async_context(
            running_accounts(
                kafka_bootstrap=infra.kafka_bootstrap,
                kafka_admin=infra.kafka_admin,
                kafka_credentials=infra.kafka_user("accounts"),
                mongo_url=infra.mongo_url,
                topic_prefix=topics.prefix,
            )
        )

        def common(service: str) -> dict[str, Any]:
            databases.append(f"test_{service}_{uuid.uuid4().hex}")
            credentials = infra.kafka_user(service)
            return {
                "kafka_bootstrap": infra.kafka_bootstrap,
                "kafka_user": credentials.user,
                "kafka_password": credentials.password,
                "mongo_url": infra.mongo_url,
                "mongo_db": databases[-1],
                "topic_prefix": topics.prefix,
                "consumer_group_suffix": suffix,
                "auth_jwks": json.dumps(accounts.keys.jwks()),
            }

        apps: dict[str, FastAPI] = {
            "accounts": accounts.app,
            "chronology": chronology_app(ChronologySettings(**common("chronology")), audit_sink=audit),
            "analytics": analytics_app(AnalyticsSettings(**common("analytics")), audit_sink=audit),
            "forum": forum_app(ForumSettings(**common("forum")), audit_sink=audit),
            # A live stream ends by itself after a moment here, so that a request over ASGI completes.
            "notifications": notifications_app(
                NotificationsSettings(**common("notifications"), stream_max_s=0.3), audit_sink=audit
            ),
        }
        for name in ("chronology", "analytics", "forum", "notifications"):
            await stack.enter_async_context(apps[name].router.lifespan_context(apps[name]))
        apps["web"] = web_app(
            WebSettings(
                accounts_url="http://accounts",
                chronology_url="http://chronology",
                analytics_url="http://analytics",
                forum_url="http://forum",
                notifications_url="http://notifications",
                auth_jwks=json.dumps(accounts.keys.jwks()),
            ),
            transport=ByHost(dict(apps)),
        )
        clients = {
            name: await stack.enter_async_context(
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{name}")
            )
            for name, app in apps.items()
        }
        people = await add_personas(accounts)
        world = await build_world(accounts.ctx, people)
        lead = accounts.headers(people["lead"])
        header = (await accounts.client.get(f"/children/{world.child_id}", headers=lead)).json()
        agency = Agency(infra, topics)
        agency.publish(contact_event_json(header["nhs_number"]), key=header["nhs_number"])
        agency.flush()
        found = Stack(accounts, apps, clients, people, world, header["nhs_number"], "", audit)
        found.entry_id = await _the_entry_once_every_service_knows_the_team(found)
        found.thread_id, found.post_id = await _a_shared_thread(found, world)
        try:
            yield found
        finally:
            client = mongo.connect(infra.mongo_url, app_name="matrix-tests")
            for database in databases:
                await client.drop_database(database)
            await client.close()


async def _the_entry_once_every_service_knows_the_team(stack: Stack) -> str:
    """The contact's entry id, once chronology and analytics have applied the whole history of both children
    (the last events of each are the family links: when the child and the other family may read, all is in)."""

    async def ready() -> bool:
        for service, what in (
            ("chronology", "chronology"),
            ("analytics", "contact-graph"),
            ("forum", "forum"),
        ):
            for persona, child in (("the_child", stack.child), ("other_family", stack.other_child)):
                path = f"/children/{child}/{what}"
                if await _status(stack, service, persona, "GET", path, None) != 200:
                    return False
        page = await _get_json(
            stack, "chronology", "lead", f"/children/{stack.child}/chronology?kind=contact"
        )
        return bool(page["entries"])

    await eventually_async(ready, what="the team's history in chronology and analytics", within=60.0)
    page = await _get_json(stack, "chronology", "lead", f"/children/{stack.child}/chronology?kind=contact")
    entry_id: str = page["entries"][0]["id"]
    return entry_id


async def _a_shared_thread(stack: Stack, world: World) -> tuple[str, str]:
    """A thread the lead shares with the family, on `world`'s child: its id and its first post's."""
    response = await stack.clients["forum"].post(
        f"/children/{world.child_id}/forum/threads",
        json={
            "title": "Home",
            "audience": "family",
            "first_post": {"body": "Mum is engaging.", "tag": "working_well", "kind": "progress"},
        },
        headers={"Authorization": f"Bearer {stack.token('lead')}"},
    )
    assert response.status_code == 201, response.text
    thread = response.json()
    return thread["thread_id"], thread["posts"][0]["post_id"]


async def _get_json(stack: Stack, service: str, persona: str, path: str) -> Any:
    response = await stack.clients[service].get(
        path, headers={"Authorization": f"Bearer {stack.token(persona)}"}
    )
    assert response.status_code == 200, response.text
    return response.json()


async def _status(
    stack: Stack, service: str, persona: str, method: str, path: str, body: dict[str, Any] | None
) -> int:
    client = stack.clients[service]
    if service != "web":
        headers = {} if persona == ANONYMOUS else {"Authorization": f"Bearer {stack.token(persona)}"}
        return (await client.request(method, path, json=body, headers=headers)).status_code
    client.cookies.clear()
    form = dict(body or {})
    if persona != ANONYMOUS:
        token = stack.token(persona)
        client.cookies.set(security.SESSION_COOKIE, token)
        form[security.CSRF_FIELD] = security.csrf_token(token)
    if method == "GET":
        response = await client.get(path)
    else:
        response = await client.request(method, path, data=form)
    return response.status_code


SERVICES = {"chronology": CHRONOLOGY, "analytics": ANALYTICS, "notifications": NOTIFICATIONS, "web": WEB}
CASES = [(service, case) for service, cases in SERVICES.items() for case in cases]


@pytest.mark.parametrize("persona", EVERYONE)
@pytest.mark.parametrize(("service", "case"), CASES, ids=[f"{s}: {c.name}" for s, c in CASES])
async def test_every_route_by_every_role_and_relationship(
    stack: Stack, service: str, case: Case, persona: str
) -> None:
    target = stack
    if case.name in CHANGES and persona in case.allowed:
        world = await build_world(stack.accounts.ctx, stack.people)
        target = Stack(**{**vars(stack), "world": world})
        if case.name == "redact a forum post":  # a post of its own, on a child the forum knows the team of
            await _forum_knows(target, world.child_id)
            target.thread_id, target.post_id = await _a_shared_thread(target, world)
    path, body = case.request(target)
    assert await _status(target, service, persona, case.method, path, body) == case.expected(persona)


async def _forum_knows(stack: Stack, child_id: str) -> None:
    async def known() -> bool:
        return await _status(stack, "forum", "the_child", "GET", f"/children/{child_id}/forum", None) == 200

    await eventually_async(known, what="the child's team in the forum", within=30.0)


def test_the_matrix_covers_every_route_of_every_service(stack: Stack) -> None:
    for service, cases in SERVICES.items():
        # The OpenAPI document lists every route however the routers are included (FastAPI 0.165 hides
        # included routers' routes from `app.routes`).
        routes = {
            (method.upper(), path)
            for path, operations in stack.apps[service].openapi()["paths"].items()
            for method in operations
            if path not in OPEN
        }
        assert routes, f"{service} declares no routes?"
        covered = {(case.method, case.route) for case in cases}
        assert routes - covered == set(), f"add these {service} routes to the authorization matrix"
        assert covered - routes == set(), f"{service} no longer serves these routes: take them out"


async def test_every_refusal_in_chronology_and_analytics_is_audited_with_its_reason(stack: Stack) -> None:
    before = len(stack.audit.events)
    for service, path in (
        ("chronology", f"/children/{stack.child}/chronology"),
        ("analytics", f"/children/{stack.child}/contact-graph"),
    ):
        assert await _status(stack, service, "left", "GET", path, None) == 403
    records = [e.data for e in stack.audit.events[before:]]
    assert {r.service for r in records} >= {"chronology", "analytics"}
    for record in records:
        assert record.actor_id == stack.people["left"].person_id and not record.allowed
        assert record.child_id == stack.child and record.reason


@pytest.mark.parametrize("persona", sorted(READERS))
async def test_the_analytics_overview_gives_each_reader_what_each_route_gives_them(
    stack: Stack, persona: str
) -> None:
    path = f"/children/{stack.child}"
    overview = await _get_json(stack, "analytics", persona, f"{path}/overview?granularity=week")
    assert overview["graph"] == await _get_json(
        stack, "analytics", persona, f"{path}/contact-graph?granularity=week"
    )
    assert overview["cloud"] == await _get_json(stack, "analytics", persona, f"{path}/keyword-cloud")
    assert overview["scales"] == await _get_json(stack, "analytics", persona, f"{path}/safety-scales")
    assert (overview["graph_refused"], overview["cloud_refused"], overview["scales_refused"]) == (None,) * 3


async def test_the_analytics_overview_audits_each_part_as_its_own_access(stack: Stack) -> None:
    for persona, allowed in (("member", True), ("left", False)):
        before = len(stack.audit.events)
        expected = 200 if allowed else 403
        path = f"/children/{stack.child}/overview"
        assert await _status(stack, "analytics", persona, "GET", path, None) == expected
        records = [e.data for e in stack.audit.events[before:]]
        assert sorted(r.action for r in records) == ["read_cloud", "read_forum", "read_graph"], persona
        assert all(r.allowed == allowed and r.actor_id == stack.people[persona].person_id for r in records)


@pytest.mark.parametrize("persona", sorted(HEADER_READERS))
async def test_the_childs_page_shows_the_chronology_only_to_those_who_may_read_it(
    stack: Stack, persona: str
) -> None:
    # The lead's line manager gets the page (who the child is, the team) but not the case: the web must not
    # fill the section from anywhere else.
    client = stack.clients["web"]
    client.cookies.clear()
    client.cookies.set(security.SESSION_COOKIE, stack.token(persona))
    page = await client.get(f"/children/{stack.child}")
    assert page.status_code == 200
    assert ("Home visit; child well." in page.text) == (persona in READERS), persona


async def test_a_person_sees_only_their_own_inbox(stack: Stack) -> None:
    # The pending persona's request to join reaches whoever may approve it: the lead among them (shown in
    # the app whatever the matrix's case chose for the lead's preferences before).
    lead = {"Authorization": f"Bearer {stack.token('lead')}"}
    chosen = {"channels": {"join_requested": ["in_app"]}}
    assert (
        await stack.clients["notifications"].put("/preferences", json=chosen, headers=lead)
    ).status_code == 200

    async def lead_told() -> bool:
        inbox = await _get_json(stack, "notifications", "lead", "/notifications")
        return any(n["kind"] == "join_requested" for n in inbox["notifications"])

    await eventually_async(lead_told, what="the lead's notification of the request to join", within=60.0)
    leads = {
        n["id"] for n in (await _get_json(stack, "notifications", "lead", "/notifications"))["notifications"]
    }
    for persona in sorted(SIGNED_IN - {"lead"}):
        theirs = await _get_json(stack, "notifications", persona, "/notifications")
        assert not leads & {n["id"] for n in theirs["notifications"]}, persona
        headers = {"Authorization": f"Bearer {stack.token(persona)}"}
        for notification_id in leads:
            marked = await stack.clients["notifications"].post(
                f"/notifications/{notification_id}/read", headers=headers
            )
            assert marked.json() == {"marked": 0}, persona
