"""Overload is refused quickly, never a stall: a bound on the work in flight and a deadline on every request.

`InFlightLimit` is plain ASGI middleware that every app gets from `shared.app.build_app`:

- at most `limit` requests are served at once; up to `queue` more wait at most `queue_wait_s` for a place;
  past that the answer is an immediate 503 with `Retry-After`, so a burst turns into quick refusals instead of
  a growing queue in front of the database;
- each admitted request has `timeout_s` to finish: database calls inside it run under `pymongo.timeout`
  (PyMongo's client-side operation timeout), and the whole request under `asyncio.timeout`, which also bounds
  calls to the broker and to other services. A request past its deadline gets a 503 instead of hanging;
- liveness, readiness and metrics are never limited: they are how operators see an overload.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass

import pymongo
from prometheus_client import CollectorRegistry, Counter, Gauge
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)
EXEMPT = frozenset({"/healthz", "/readyz", "/metrics"})
RETRY_AFTER_S = 2


@dataclass(frozen=True)
class Limits:
    limit: int
    queue: int
    queue_wait_s: float
    timeout_s: float


class InFlightLimit:
    def __init__(
        self,
        app: ASGIApp,
        *,
        limits: Limits,
        registry: CollectorRegistry,
        streams: frozenset[str] = frozenset(),
    ) -> None:
        self._app = app
        # Long-lived streams (Server-Sent Events) end by themselves; a deadline would cut each one.
        self._exempt = EXEMPT | streams
        self._limits = limits
        self._places = asyncio.Semaphore(limits.limit)
        self._waiting = 0
        self._refused = Counter("sg_http_refused", "Requests refused with 503", ["reason"], registry=registry)
        self._in_flight = Gauge("sg_http_in_flight", "Requests being served", registry=registry)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self._exempt:
            await self._app(scope, receive, send)
            return
        if not await self._admit():
            self._refused.labels("busy").inc()
            await _unavailable(send, "the service is busy; try again in a moment")
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        self._in_flight.inc()
        try:
            async with asyncio.timeout(self._limits.timeout_s):
                with pymongo.timeout(self._limits.timeout_s * 0.8):  # the database gives up first
                    await self._app(scope, receive, tracked)
        except TimeoutError:
            self._refused.labels("deadline").inc()
            log.warning("request past its deadline", extra={"fields": {"path": scope["path"]}})
            if not started:
                await _unavailable(send, "the request took too long; try again in a moment")
        finally:
            self._in_flight.dec()
            self._places.release()

    async def _admit(self) -> bool:
        if not self._places.locked():
            await self._places.acquire()
            return True
        if self._waiting >= self._limits.queue:
            return False
        self._waiting += 1
        try:
            async with asyncio.timeout(self._limits.queue_wait_s):
                await self._places.acquire()
            return True
        except TimeoutError:
            return False
        finally:
            self._waiting -= 1


async def _unavailable(send: Send, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(RETRY_AFTER_S).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
