"""No route of any service takes a control character in text (issue 9, rule 12): every string a request can
carry, in a query or a body, is refused with an answer that names the field.

The routes and their fields come from each service's own OpenAPI document, so a field added without `Line` or
`Prose` (shared.text) fails here. Accounts runs for real (its sign-in keys are its own); chronology, analytics,
the forum and the web are built in-process and never reach a database, since a request is validated before it is
handled.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

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
from testsupport.accounts import RunningAccounts, running_accounts
from testsupport.identities import Identities
from web import security
from web.app import create_app as web_app
from web.settings import WebSettings

pytestmark = pytest.mark.integration

NUL = "a\x00b"
IDS = Identities()
JWKS = IDS.jwks_json()
PATH_VALUES = {"child_id": "9434765919", "entry_id": "school:e1", "person_id": "p1", "match_id": "m1"}
PATH_VALUES |= {"request_id": "r1", "verb": "approve", "thread_id": "t1", "post_id": "p1"}
Field = tuple[str, str, str]  # ("query" | "body", name, a value with a NUL in it)


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = document["components"]["schemas"][name]
    return schema


def _is_free_text(document: dict[str, Any], schema: dict[str, Any]) -> bool:
    """A string a person or a system chooses: not an enum, a date, or a list of enums."""
    options = [_resolve(document, s) for s in schema.get("anyOf", [schema])]
    return any(
        o.get("type") == "string" and "enum" not in o and "const" not in o and "format" not in o
        for o in options
    )


def _poisoned(schema: dict[str, Any]) -> str:
    """A NUL in words long enough for the field's minimum length, so that the NUL is what is refused."""
    shortest = max([o.get("minLength", 0) for o in schema.get("anyOf", [schema])])
    value = NUL
    while len(value) < shortest:
        value += " more words"
    return value


def text_fields(document: dict[str, Any], operation: dict[str, Any]) -> Iterator[Field]:
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "query" and _is_free_text(document, parameter["schema"]):
            yield ("query", parameter["name"], _poisoned(parameter["schema"]))
    for content in operation.get("requestBody", {}).get("content", {}).values():
        body = _resolve(document, content["schema"])
        for name, schema in body.get("properties", {}).items():
            if _is_free_text(document, schema) and name != security.CSRF_FIELD:
                yield ("body", name, _poisoned(schema))


def routes_with_text(app: FastAPI) -> Iterator[tuple[str, str, list[Field]]]:
    document = app.openapi()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            fields = list(text_fields(document, operation))
            if fields:
                concrete = path.format(**PATH_VALUES)
                yield method.upper(), concrete, fields


@pytest.fixture(scope="module")
async def accounts(infra: Endpoints) -> AsyncIterator[RunningAccounts]:
    async with running_accounts(
        kafka_bootstrap=infra.kafka_bootstrap,
        kafka_admin=infra.kafka_admin,
        kafka_credentials=infra.kafka_user("accounts"),
        mongo_url=infra.mongo_url,
    ) as running:
        yield running


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
    }
    checked = 0
    for service, (app, headers) in apps.items():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc") as client:
            for method, path, fields in routes_with_text(app):
                for where, name, value in fields:
                    params = {name: value} if where == "query" else None
                    body = {name: value} if where == "body" else None
                    answer = await client.request(method, path, params=params, json=body, headers=headers)
                    assert answer.status_code == 422, (service, method, path, name, answer.text)
                    problems = {tuple(p["loc"][:2]): p["msg"] for p in answer.json()["detail"]}
                    # A field with a pattern that has no room for a control character refuses it first.
                    problem = problems.get((where, name), "")
                    assert "control character U+0000" in problem or "match pattern" in problem, (
                        service,
                        method,
                        path,
                        name,
                        problems,
                    )
                    checked += 1
    assert checked >= 25, f"only {checked} text fields found: is the walk still reading the documents?"


async def test_every_web_form_refuses_a_control_character_naming_the_field() -> None:
    app = web_app(WebSettings(auth_jwks=JWKS))
    token = IDS.token("lead-1")
    checked = 0
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://web") as client:
        for method, path, fields in routes_with_text(app):
            for where, name, value in fields:
                client.cookies.set(security.SESSION_COOKIE, token)
                if where == "query":
                    answer = await client.request(method, path, params={name: value})
                else:
                    form = {name: value, security.CSRF_FIELD: security.csrf_token(token)}
                    if path == "/sign-in":
                        client.cookies.set(security.SIGNIN_COOKIE, "nonce")
                        form[security.CSRF_FIELD] = "nonce"
                    answer = await client.request(method, path, data=form)
                assert answer.status_code == 400, (method, path, name, answer.status_code, answer.text[:300])
                assert f"{name}: contains the control character U+0000" in answer.text, answer.text[:500]
                checked += 1
    assert checked >= 10, f"only {checked} form fields found"
