"""A database that stops answering mid-request gives a quick 503 with Retry-After, never a hang; readiness
says so within its probe timeout; once the database answers again, so does the service."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from urllib.parse import urlparse

import httpx
import pytest
from fastapi import APIRouter
from prometheus_client import CollectorRegistry

from devstack.infra import Endpoints
from shared import mongo
from shared.app import Lifecycle, build_app
from shared.errors import SHARED_STATUSES
from shared.settings import ServiceSettings
from testsupport.proxy import StallableProxy

pytestmark = pytest.mark.integration


@pytest.fixture
async def proxy(infra: Endpoints) -> AsyncIterator[StallableProxy]:
    target = urlparse(infra.mongo_url)
    proxy = StallableProxy(target.hostname or "127.0.0.1", target.port or 27017)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.stop()


async def test_a_stalled_database_gives_a_quick_503_and_the_service_recovers(
    proxy: StallableProxy, mongo_db_name: str
) -> None:
    client = mongo.connect(f"mongodb://127.0.0.1:{proxy.port}/", app_name="stall-test")
    things = client[mongo_db_name]["things"]
    router = APIRouter()

    @router.get("/things")
    async def list_things() -> list[str]:
        return [str(d["_id"]) async for d in things.find({})]

    async def mongo_ready() -> bool:
        return await mongo.ping(client)

    settings = ServiceSettings(service_name="stall-test", http_request_timeout_s=1.5)
    app = build_app(
        settings,
        title="t",
        description="",
        registry=CollectorRegistry(),
        checks={"mongo": mongo_ready},
        lifecycle=Lifecycle(),
        routers=[router],
        errors=SHARED_STATUSES,
    )
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
    try:
        await things.insert_one({"_id": "a"})
        assert (await http.get("/things")).json() == ["a"]

        proxy.stall()
        started = time.perf_counter()
        answer = await http.get("/things")
        took = time.perf_counter() - started
        assert answer.status_code == 503, answer.text
        assert answer.headers["retry-after"] == "2"
        assert took < 3.0, f"took {took:.1f}s"
        ready = await http.get("/readyz")
        assert ready.status_code == 503 and ready.json()["checks"] == {"mongo": False}

        proxy.resume()
        deadline = time.monotonic() + 10
        while True:
            again = await http.get("/things")
            if again.status_code == 200 or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        assert again.status_code == 200 and again.json() == ["a"]
    finally:
        await http.aclose()
        await client.drop_database(mongo_db_name)
        await client.close()
