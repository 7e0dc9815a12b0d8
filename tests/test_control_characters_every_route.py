"""No route of any service takes a control character in text (issue 9, rule 12): every string a request can
carry, in its address, a query or a body, is refused with an answer that names the field.

The routes and their fields come from each service's own OpenAPI document, so a field added without `Line` or
`Prose` (shared.text), or a path id that is neither a `Line` nor held to a pattern, fails here. The walk goes
into nested objects and arrays of a body ($ref, `properties`, `items`, `anyOf`, `additionalProperties`), into
array query parameters, and into every path parameter. Accounts runs for real (its sign-in keys are its own);
chronology, analytics, the forum, notifications and the web are built in-process and never reach a database,
since a request is validated before it is handled.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI

from analytics.app import create_app as analytics_app
from analytics.settings import AnalyticsSettings
from chronology.app import create_app as chronology_app
from chronology.settings import ChronologySettings
from devstack.infra import Endpoints
from forum.app import create_app as forum_app
from forum.settings import ForumSettings
from notifications.app import create_app as notifications_app
from notifications.settings import NotificationsSettings
from testsupport.accounts import RunningAccounts, running_accounts
from testsupport.identities import Identities
from testsupport.text_fields import CONTROLS, Loc, is_string, names, nested, poisoned, refused, texts_in
from web import security
from web.app import create_app as web_app
from web.settings import WebSettings

pytestmark = pytest.mark.integration

IDS = Identities()
JWKS = IDS.jwks_json()
PATH_VALUES = {"child_id": "9434765919", "entry_id": "school:e1", "person_id": "p1", "match_id": "m1"}
PATH_VALUES |= {"request_id": "r1", "verb": "approve", "thread_id": "t1", "post_id": "p1"}
PATH_VALUES |= {"notification_id": "ab12"}


class Probe:
    """One request with one control character in one place."""

    def __init__(self, method: str, template: str, loc: Loc, value: str, *, control: str) -> None:
        self.method, self.loc, self.value, self.control = method, loc, value, control
        where, name = loc[0], loc[1]
        values = PATH_VALUES | ({str(name): value} if where == "path" else {})
        self.path = template.format(**{k: quote(v, safe="") for k, v in values.items()})
        self.params: dict[str, Any] | None = {str(name): nested(loc[2:], value)} if where == "query" else None
        self.body = nested(loc[1:], value) if where == "body" else None

    def __repr__(self) -> str:
        return f"{self.method} {self.path} {self.loc} {self.control!r}"


def probes(app: FastAPI, *, skip: frozenset[str] = frozenset()) -> Iterator[Probe]:
    document = app.openapi()
    for template, operations in document["paths"].items():
        for method, operation in operations.items():
            places: list[tuple[Loc, dict[str, Any]]] = []
            for parameter in operation.get("parameters", []):
                where, name, schema = parameter["in"], parameter["name"], parameter["schema"]
                if where == "query":
                    places += texts_in(document, schema, (where, name))
                elif where == "path" and is_string(document, schema):
                    places.append(((where, name), schema))  # an address: even a choice of words is probed
            for content in operation.get("requestBody", {}).get("content", {}).values():
                places += texts_in(document, content["schema"], ("body",))
            for loc, schema in places:
                if len(loc) < 2 or loc[1] in skip:
                    continue
                for control in CONTROLS:
                    value = poisoned(document, schema, control)
                    yield Probe(method.upper(), template, loc, value, control=control)


def _refusal(problems: list[dict[str, Any]], probe: Probe) -> str:
    """What the answer says about the poisoned place (empty when it does not name it)."""
    return " ".join(p["msg"] for p in problems if names(list(p["loc"]), probe.loc))


def _page_words(html: str) -> str:
    """What a page says, without its markup: enough to see why a probe failed."""
    said = re.search(r"<main[^>]*>(.*?)</main>", html, re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", said.group(1) if said else html).split())[:300]


@pytest.fixture(scope="module")
async def accounts(infra: Endpoints) -> AsyncIterator[RunningAccounts]:
    async with running_accounts(
        kafka_bootstrap=infra.kafka_bootstrap,
        kafka_admin=infra.kafka_admin,
        kafka_credentials=infra.kafka_user("accounts"),
        mongo_url=infra.mongo_url,
    ) as running:
        yield running


def test_the_walk_finds_nested_fields_array_queries_and_path_ids() -> None:
    """The walk itself: a nested model's field, an array of strings, a dict's values and a path id are found."""
    document = forum_app(ForumSettings(kafka_password="unused", auth_jwks=JWKS)).openapi()
    thread = document["paths"]["/children/{child_id}/forum/threads"]["post"]
    body = thread["requestBody"]["content"]["application/json"]["schema"]
    places = {loc for loc, _ in texts_in(document, body, ("body",))}
    assert {
        ("body", "title"),
        ("body", "first_post", "body"),
        ("body", "first_post", "mentions", 0),
    } <= places
    chronology = chronology_app(ChronologySettings(kafka_password="unused", auth_jwks=JWKS))
    found = {(p.loc, p.control) for p in probes(chronology)}
    assert (("query", "agency", 0), "\x00") in found
    assert (("path", "entry_id"), "\x1b") in found
    dicts = {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}}
    assert [loc for loc, _ in texts_in({}, dicts, ("body", "d"))] == [("body", "d", "key", 0)]
    assert names(["body", "first_post", "mentions", 0], ("body", "first_post", "mentions", 0))
    assert names(["body", "x", "function-after[_line(), str]"], ("body", "x"))
    assert not names(["body", "title"], ("body", "first_post", "body"))


async def test_every_json_route_refuses_a_control_character_in_every_text_field(
    accounts: RunningAccounts,
) -> None:
    lead = await accounts.add_person("lead", "manager", "socialcare", "team manager")
    apps: dict[str, tuple[FastAPI, dict[str, str]]] = {
        "accounts": (accounts.app, accounts.headers(lead)),
        "chronology": (
            chronology_app(ChronologySettings(kafka_password="unused", auth_jwks=JWKS)),
            IDS.headers("lead-1"),
        ),
        "analytics": (
            analytics_app(AnalyticsSettings(kafka_password="unused", auth_jwks=JWKS)),
            IDS.headers("lead-1"),
        ),
        "forum": (forum_app(ForumSettings(kafka_password="unused", auth_jwks=JWKS)), IDS.headers("lead-1")),
        "notifications": (
            notifications_app(NotificationsSettings(kafka_password="unused", auth_jwks=JWKS)),
            IDS.headers("lead-1"),
        ),
    }
    checked: dict[str, int] = {"path": 0, "query": 0, "body": 0}
    failures: list[str] = []
    for service, (app, headers) in apps.items():
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://svc"
        ) as client:
            for probe in probes(app):
                answer = await client.request(
                    probe.method, probe.path, params=probe.params, json=probe.body, headers=headers
                )
                checked[str(probe.loc[0])] += 1
                if answer.status_code != 422:
                    failures.append(f"{service} {probe}: {answer.status_code} {answer.text[:200]}")
                    continue
                refusal = _refusal(answer.json()["detail"], probe)
                # A field with a pattern that has no room for a control character refuses it first.
                if not refused(probe.control, refusal) and "match pattern" not in refusal:
                    failures.append(f"{service} {probe}: {answer.json()['detail']}")
    assert not failures, "\n".join(failures)
    assert checked["body"] >= 25 * len(CONTROLS), (
        f"only {checked} places: is the walk still reading the documents?"
    )
    assert checked["path"] >= 40 * len(CONTROLS) and checked["query"] >= 10 * len(CONTROLS), checked


async def test_every_web_form_refuses_a_control_character_naming_the_field() -> None:
    """A form or query field is named on a 400 page; a malformed address is the not-found page, which never
    asks a service for anything (a path id that got through would reach one, and answer 503 here)."""
    app = web_app(WebSettings(auth_jwks=JWKS))
    token = IDS.token("lead-1")
    checked: dict[str, int] = {"path": 0, "query": 0, "body": 0}
    failures: list[str] = []
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://web"
    ) as client:
        for probe in probes(app, skip=frozenset({security.CSRF_FIELD})):
            client.cookies.set(security.SESSION_COOKIE, token)
            form = None
            if probe.body is not None or probe.method == "POST":
                form = (probe.body or {}) | {security.CSRF_FIELD: security.csrf_token(token)}
                if probe.path == "/sign-in":
                    client.cookies.set(security.SIGNIN_COOKIE, "nonce")
                    form[security.CSRF_FIELD] = "nonce"
            answer = await client.request(probe.method, probe.path, params=probe.params, data=form)
            checked[str(probe.loc[0])] += 1
            if probe.loc[0] == "path":
                if answer.status_code != 404 or "Page not found" not in answer.text:
                    failures.append(f"{probe}: {answer.status_code} {_page_words(answer.text)}")
                continue
            named = f"{probe.loc[1]}: contains the control character U+{ord(probe.control):04X}"
            if answer.status_code != 400 or named not in answer.text:
                failures.append(f"{probe}: {answer.status_code} {_page_words(answer.text)}")
    assert not failures, "\n".join(failures)
    assert checked["body"] >= 10 * len(CONTROLS), f"only {checked} form fields found"
    assert checked["path"] >= 15 * len(CONTROLS), checked
