"""Liveness, readiness and metrics endpoints every service serves the same way."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

Check = Callable[[], Awaitable[bool]]
CHECK_TIMEOUT_S = 2.0


def health_router(*, registry: CollectorRegistry, checks: Mapping[str, Check]) -> APIRouter:
    """`/healthz` answers while the process runs; `/readyz` only once every dependency answers."""
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="Liveness: the process is running")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", summary="Readiness: every dependency answers")
    async def readyz() -> JSONResponse:
        async def probe(check: Check) -> bool:
            try:
                # A dependency that hangs is not ready: answer within the probe's own timeout.
                return await asyncio.wait_for(check(), CHECK_TIMEOUT_S)
            except Exception:
                return False

        answers = await asyncio.gather(*(probe(check) for check in checks.values()))
        results = dict(zip(checks, answers, strict=True))
        ready = all(results.values())
        return JSONResponse({"ready": ready, "checks": results}, status_code=200 if ready else 503)

    @router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return router
