"""Overload is refused quickly: past the work in flight and its queue a request gets an immediate 503 with
Retry-After; a request past its deadline gets a 503 instead of hanging; health and metrics stay answerable."""

from __future__ import annotations

import asyncio
import time

import httpx
from fastapi import APIRouter
from prometheus_client import CollectorRegistry

from shared.app import Lifecycle, build_app
from shared.errors import SHARED_STATUSES
from shared.settings import ServiceSettings


def _app(
    *, limit: int, queue: int, timeout_s: float = 5.0, gate: asyncio.Event | None = None
) -> httpx.AsyncClient:
    router = APIRouter()

    @router.get("/slow")
    async def slow() -> dict[str, str]:
        if gate is not None:
            await gate.wait()
        return {"ok": "yes"}

    settings = ServiceSettings(
        service_name="overload-test",
        http_max_in_flight=limit,
        http_queue=queue,
        http_queue_wait_s=0.05,
        http_request_timeout_s=timeout_s,
    )
    app = build_app(
        settings,
        title="t",
        description="",
        registry=CollectorRegistry(),
        checks={},
        lifecycle=Lifecycle(),
        routers=[router],
        errors=SHARED_STATUSES,
    )
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def until_in_flight(client: httpx.AsyncClient, n: int, within: float = 5.0) -> None:
    """Poll the service's own gauge until `n` requests are being served (metrics are never limited)."""
    deadline = time.monotonic() + within
    while f"sg_http_in_flight {float(n)}" not in (await client.get("/metrics")).text:
        assert time.monotonic() < deadline, f"never {n} requests in flight"
        await asyncio.sleep(0.01)


async def test_past_capacity_a_request_is_refused_at_once_with_retry_after() -> None:
    gate = asyncio.Event()
    async with _app(limit=2, queue=0, gate=gate) as client:
        held = [asyncio.create_task(client.get("/slow")) for _ in range(2)]
        await until_in_flight(client, 2)
        started = time.perf_counter()
        refused = await client.get("/slow")
        waited = time.perf_counter() - started
        assert refused.status_code == 503
        assert refused.headers["retry-after"] == "2"
        assert "busy" in refused.json()["detail"]
        assert waited < 0.2
        health = await client.get("/healthz")  # operators still see the service
        assert health.status_code == 200
        gate.set()
        answers = await asyncio.gather(*held)
        assert [a.status_code for a in answers] == [200, 200]  # the held ones were served, none hung
        assert (await client.get("/slow")).status_code == 200  # recovered as soon as the load went


async def test_a_request_past_its_deadline_gets_a_503_instead_of_hanging() -> None:
    never = asyncio.Event()
    async with _app(limit=4, queue=0, timeout_s=0.2, gate=never) as client:
        started = time.perf_counter()
        answer = await client.get("/slow")
        assert answer.status_code == 503
        assert "too long" in answer.json()["detail"]
        assert time.perf_counter() - started < 1.0
        metrics = (await client.get("/metrics")).text
        assert 'sg_http_refused_total{reason="deadline"} 1.0' in metrics
