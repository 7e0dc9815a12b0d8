"""The one app builder: every service's HTTP app, the web's included, is made here.

It gives each the same operations surface (`/healthz`, `/readyz`, `/metrics`, JSON logs, correlation ids), one
error table (`shared.errors`) and one lifecycle: steps at start, tasks that run beside the work, steps at stop.
A service with a broker and a database builds its lifecycle through `shared.service.Runtime`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

from fastapi import APIRouter, FastAPI
from prometheus_client import CollectorRegistry
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.errors import ErrorStatuses, document_error_answers, install_error_statuses
from shared.health import Check, health_router
from shared.logs import configure_logging, correlation_id
from shared.overload import InFlightLimit, Limits
from shared.settings import ServiceSettings

log = logging.getLogger(__name__)
Step = Callable[[], Awaitable[None]]
# How long each stop step (the broker, MongoDB, a feed) may take, so one stuck step neither keeps the process
# past its deployment's grace period nor skips the steps after it.
STOP_STEP_S = 10.0
CORRELATION_HEADER = b"x-correlation-id"


class CorrelationIds:
    """Each request's correlation id (the caller's, or a new one) in `shared.logs.correlation_id` while it is
    served, and on its answer. Plain ASGI: Starlette's `BaseHTTPMiddleware` runs each request through a
    second task and stream, a measurable cost on every call of every page."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        given = dict(scope.get("headers", ())).get(CORRELATION_HEADER, b"").decode("latin-1")
        cid = given or str(uuid.uuid4())

        async def with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", ()) if k.lower() != CORRELATION_HEADER]
                message = {**message, "headers": [*headers, (CORRELATION_HEADER, cid.encode("latin-1"))]}
            await send(message)

        token = correlation_id.set(cid)
        try:
            await self._app(scope, receive, with_id)
        finally:
            correlation_id.reset(token)


@dataclass
class Lifecycle:
    """What a process does around serving requests.

    `on_start` steps run in order before the app answers; then every `background` task starts (each a
    coroutine that runs until cancelled: an outbox relay, a lag monitor); at stop the tasks are cancelled
    first, then the `on_stop` steps run in order."""

    on_start: list[Step] = field(default_factory=list)
    background: dict[str, Step] = field(default_factory=dict)
    on_stop: list[Step] = field(default_factory=list)

    def run_in_background(self, name: str, run: Step) -> None:
        if name in self.background:
            raise ValueError(f"two background tasks named {name!r}")
        self.background[name] = run

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        for step in self.on_start:
            await step()
        tasks = [asyncio.create_task(_logged(name, run), name=name) for name, run in self.background.items()]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            for step in self.on_stop:
                await _bounded_stop(step)


async def _bounded_stop(step: Step) -> None:
    """Run one stop step within STOP_STEP_S: a consumer that cannot leave its group (a rebalance the broker
    holds open) must not keep the process, or the steps after it (closing MongoDB), from stopping."""
    try:
        async with asyncio.timeout(STOP_STEP_S):
            await step()
    except TimeoutError:
        log.warning("stop step %s did not finish within %s s; going on", _name(step), STOP_STEP_S)


def _name(step: Step) -> str:
    return getattr(step, "__qualname__", None) or repr(step)


async def _logged(name: str, run: Step) -> None:
    try:
        await run()
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("background task %s stopped with an error", name)
        raise


def build_app(
    settings: ServiceSettings,
    *,
    title: str,
    description: str,
    registry: CollectorRegistry,
    checks: Mapping[str, Check],
    lifecycle: Lifecycle,
    routers: Sequence[APIRouter] = (),
    errors: ErrorStatuses,
    api_docs: bool = True,
    streams: frozenset[str] = frozenset(),
) -> FastAPI:
    """A FastAPI app with the operations routes, the error table and the lifecycle of `settings`' service.

    `checks` are what readiness waits for; `errors` maps every error a route may raise to its status (the
    service's `errors.STATUSES`); `streams` are paths of long-lived responses, outside the request deadline."""
    configure_logging(settings.service_name, settings.log_level)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with lifecycle.running():
            log.info("started", extra={"fields": {"port": settings.http_port}})
            yield
        log.info("stopped")

    app = FastAPI(
        title=title,
        description=description,
        version="0.1.0",
        lifespan=lifespan,
        docs_url="/docs" if api_docs else None,
        redoc_url="/redoc" if api_docs else None,
    )
    app.include_router(health_router(registry=registry, checks=checks))
    for router in routers:
        app.include_router(router)
    install_error_statuses(app, errors)
    document_error_answers(app, errors)

    app.add_middleware(CorrelationIds)
    app.add_middleware(
        InFlightLimit,  # outermost: a refused request costs nothing further
        limits=Limits(
            limit=settings.http_max_in_flight,
            queue=settings.http_queue,
            queue_wait_s=settings.http_queue_wait_s,
            timeout_s=settings.http_request_timeout_s,
        ),
        registry=registry,
        streams=streams,
    )
    return app
