"""Every answer carries the request's correlation id: the caller's when it sent one, a new one otherwise,
and the same id is what the request's own work (its logs, its calls onward) sees while it is served."""

from __future__ import annotations

import uuid

import httpx
from fastapi import APIRouter
from prometheus_client import CollectorRegistry

from shared.app import Lifecycle, build_app
from shared.errors import SHARED_STATUSES
from shared.logs import correlation_id
from shared.settings import ServiceSettings


def _client() -> httpx.AsyncClient:
    router = APIRouter()

    @router.get("/seen")
    async def seen() -> dict[str, str | None]:
        return {"cid": correlation_id.get()}

    app = build_app(
        ServiceSettings(service_name="cid-test"),
        title="t",
        description="",
        registry=CollectorRegistry(),
        checks={},
        lifecycle=Lifecycle(),
        routers=[router],
        errors=SHARED_STATUSES,
    )
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_the_callers_correlation_id_is_seen_while_served_and_comes_back_once() -> None:
    async with _client() as client:
        answer = await client.get("/seen", headers={"x-correlation-id": "abc-123"})

    assert answer.json() == {"cid": "abc-123"}
    assert answer.headers.get_list("x-correlation-id") == ["abc-123"]


async def test_a_request_without_one_gets_a_new_id_each_time() -> None:
    async with _client() as client:
        first, second = await client.get("/seen"), await client.get("/seen")

    assert first.headers["x-correlation-id"] == first.json()["cid"]
    assert uuid.UUID(first.json()["cid"]) and first.json()["cid"] != second.json()["cid"]
    assert correlation_id.get() is None  # nothing leaks past the request
