"""Every service's refusals of bad input match what its OpenAPI document promises (issue 9, rule 12).

The apps are built as `tests/test_api_documents.py` builds them and called in-process: a malformed request is
refused before any server would be reached. Each answer is checked against the schema its document gives for
that operation and status."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from shared.errors import install_error_statuses
from testsupport.events import new_nhs_number
from testsupport.identities import Identities
from testsupport.offline import offline_settings

IDS = Identities()
CHILD = new_nhs_number()
# service → (method, documented path, called path, request arguments, status the document must describe)
MALFORMED: dict[str, tuple[str, str, str, dict[str, Any], int]] = {
    "accounts": ("post", "/auth/token", "/auth/token", {"json": {"username": "lee"}}, 422),
    "chronology": (
        "get",
        "/children/{child_id}/chronology",
        f"/children/{CHILD}/chronology",
        {"params": {"limit": 0, "agency": "school\x00"}},
        422,
    ),
    "analytics": (
        "get",
        "/children/{child_id}/contact-graph",
        f"/children/{CHILD}/contact-graph",
        {"params": {"granularity": "year"}},
        422,
    ),
    "forum": (
        "post",
        "/children/{child_id}/forum/threads",
        f"/children/{CHILD}/forum/threads",
        {"json": {"title": "t", "audience": "family", "first_post": {"body": "a\x00", "tag": "worry"}}},
        422,
    ),
    "notifications": ("get", "/notifications", "/notifications", {"params": {"limit": 0}}, 422),
    "web": ("post", "/sign-in", "/sign-in", {"data": {"username": "x" * 101}}, 400),
}


def build(service: str) -> FastAPI:
    module = importlib.import_module(f"{service}.app")
    settings = importlib.import_module(f"{service}.settings")
    cls = next(v for k, v in vars(settings).items() if k.lower() == f"{service}settings")
    fields = cls.model_fields
    extra = {k: v for k, v in offline_settings(IDS).items() if k in fields}
    app: FastAPI = module.create_app(cls(**extra))
    return app


def conforms(value: Any, schema: dict[str, Any], document: dict[str, Any]) -> bool:
    """`value` matches `schema` (the subset of JSON Schema FastAPI writes: $ref, anyOf, type, properties,
    required, items)."""
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/components/schemas/")
        return conforms(value, document["components"]["schemas"][name], document)
    if "anyOf" in schema:
        return any(conforms(value, option, document) for option in schema["anyOf"])
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        return (
            isinstance(value, dict)
            and all(k in value for k in schema.get("required", []))
            and all(conforms(v, properties[k], document) for k, v in value.items() if k in properties)
        )
    if kind == "array":
        items = schema.get("items", {})
        return isinstance(value, list) and all(conforms(v, items, document) for v in value)
    types: dict[str, type | tuple[type, ...]] = {
        "string": str,
        "integer": int,
        "boolean": bool,
        "number": (int, float),
        "null": type(None),
    }
    return kind is None or isinstance(value, types[kind])


def answer_schema(
    document: dict[str, Any], method: str, path: str, status: int
) -> tuple[str, dict[str, Any]]:
    answer = document["paths"][path][method]["responses"][str(status)]
    ((media_type, content),) = answer["content"].items()
    return media_type, content["schema"]


@pytest.mark.parametrize("service", sorted(MALFORMED))
def test_a_malformed_request_is_answered_as_the_document_says(service: str) -> None:
    method, documented, called, arguments, status = MALFORMED[service]
    app = build(service)
    document = app.openapi()
    headers = (
        IDS.headers("lead-1") if service in ("chronology", "analytics", "forum", "notifications") else {}
    )

    response = TestClient(app).request(method.upper(), called, headers=headers, **arguments)

    assert response.status_code == status, response.text
    media_type, schema = answer_schema(document, method, documented, status)
    assert response.headers["content-type"].startswith(media_type)
    body = response.json() if media_type == "application/json" else response.text
    assert conforms(body, schema, document), (body, schema)
    if status != 422:  # an app that never answers 422 must not promise it anywhere
        assert not any("422" in o["responses"] for op in document["paths"].values() for o in op.values())


def test_a_control_character_is_refused_naming_the_field() -> None:
    method, _, called, arguments, _ = MALFORMED["chronology"]
    response = TestClient(build("chronology")).request(
        method.upper(), called, headers=IDS.headers("lead-1"), **arguments
    )
    problems = {tuple(p["loc"]): p["msg"] for p in response.json()["detail"]}
    assert "control character U+0000" in problems[("query", "agency", 0)]


def test_a_domain_rule_answered_422_matches_the_accounts_document() -> None:
    from accounts.errors import STATUSES, Invalid

    document = build("accounts").openapi()
    refusing = FastAPI()
    install_error_statuses(refusing, STATUSES)  # as the service's app builder installs the table

    @refusing.post("/children")
    async def refuse() -> None:
        raise Invalid("without an NHS number, give the postcode so the child can be matched")

    response = TestClient(refusing).post("/children")
    assert response.status_code == 422
    _, schema = answer_schema(document, "post", "/children", 422)
    assert conforms(response.json(), schema, document), (response.json(), schema)
    assert not conforms(
        {"detail": "a sentence"}, {"$ref": "#/components/schemas/HTTPValidationError"}, document
    )
