"""Composition root of the web front end: the pages, the backend clients, health and metrics.

The web is a backend-for-frontend with no data and no Kafka consumer of its own: it is built by the same
`shared.app.build_app` as every service, without a broker or a database, so it serves the same `/healthz`,
`/readyz` (here: every backend answers) and `/metrics`, logs the same JSON lines and passes correlation ids on.
Its errors become pages, not JSON: `install_error_pages` is the web's one place that maps them.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, StrictUndefined
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.app import Lifecycle, build_app
from shared.auth import TokenVerifier, verifier_from_settings
from shared.errors import amend_openapi, operations
from web import labels, pages, security
from web.clients import (
    AccountsClient,
    AnalyticsClient,
    BackendError,
    ChronologyClient,
    Forbidden,
    NotFound,
    NotificationsClient,
    Rejected,
    SignedOut,
    backend_histogram,
)
from web.forum import ForumClient
from web.pages.common import BadForm, NeedsSignIn, Web, render
from web.settings import WebSettings

STATIC_DIR = Path(__file__).parent / "static"
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def templates() -> Environment:
    """Jinja2 with autoescaping on for everything: whatever a person or an agency typed is shown as text."""
    env = Environment(
        loader=PackageLoader("web", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        # The templates ship with the package and never change under a running process; without this every
        # `include` (one per timeline entry) stats its file to see whether to reload it.
        auto_reload=False,
    )
    env.filters.update(
        agency=labels.agency_label,
        contact_type=labels.contact_type_label,
        long_date=labels.long_date,
        short_date=labels.short_date,
        when=labels.when,
        clock=labels.clock,
        nhs=labels.nhs_number,
    )
    env.globals.update(age_on=labels.age_on, relationship_label=labels.RELATIONSHIP_LABELS.get)
    return env


def create_app(
    settings: WebSettings | None = None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    verifier: TokenVerifier | None = None,
) -> FastAPI:
    settings = settings or WebSettings()
    registry = CollectorRegistry()
    timing = backend_histogram(registry)

    # A bounded pool per backend, every connection kept alive (httpx keeps 20 by default, so under load the
    # rest were opened and closed per call), and a short wait for a free one: past capacity the page fails
    # quickly instead of queueing.
    limits = httpx.Limits(
        max_connections=settings.backend_connections,
        max_keepalive_connections=settings.backend_connections,
        keepalive_expiry=30.0,
    )
    timeout = httpx.Timeout(settings.backend_timeout_s, pool=settings.backend_pool_wait_s)

    def client(base_url: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=base_url, timeout=timeout, limits=limits, transport=transport)

    web = Web(
        settings=settings,
        templates=templates(),
        verifier=verifier or verifier_from_settings(settings),
        accounts=AccountsClient(client(settings.accounts_url), timing=timing),
        chronology=ChronologyClient(client(settings.chronology_url), timing=timing),
        analytics=AnalyticsClient(client(settings.analytics_url), timing=timing),
        forum=ForumClient(client(settings.forum_url), timing=timing),
        notifications=NotificationsClient(client(settings.notifications_url), timing=timing),
    )

    async def close_backends() -> None:
        for backend in (web.accounts, web.chronology, web.analytics, web.forum, web.notifications):
            await backend.close()

    app = build_app(
        settings,
        title="Safeguarding 2.0 — web",
        description="The pages practitioners and families use; every page reads the services as the person.",
        registry=registry,
        checks={
            "accounts": web.accounts.healthy,
            "chronology": web.chronology.healthy,
            "analytics": web.analytics.healthy,
            "forum": web.forum.healthy,
        },
        lifecycle=Lifecycle(on_stop=[close_backends]),
        errors={},
        api_docs=False,
        streams=frozenset({"/notifications/live"}),
    )
    app.state.web = web
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    install_error_pages(app, settings)
    install_middleware(app, registry, settings)
    return app


def install_error_pages(app: FastAPI, settings: WebSettings) -> None:
    """Refusals and failures become pages in plain English; a lapsed sign-in goes back to the sign-in page."""

    def to_sign_in(request: Request, *, expired: bool) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method != "GET":
            target = "/children"
        location = f"/sign-in?next={quote(target, safe='')}" + ("&done=expired" if expired else "")
        response = RedirectResponse(location, status_code=303)
        if expired:
            request.state.refreshed = None  # a pair refreshed on the way here is not kept either
            security.clear_session(response, secure=settings.cookie_secure)
        return response

    async def on_needs_sign_in(request: Request, err: Exception) -> Response:
        assert isinstance(err, NeedsSignIn)
        return to_sign_in(request, expired=err.expired)

    async def on_bad_form(request: Request, _: Exception) -> Response:
        return render(
            request,
            "error.html",
            status_code=400,
            title="That form could not be used",
            message="The form had expired or came from another site. Go back, reload the page and try again.",
            back=None,
        )

    async def on_backend_error(request: Request, err: Exception) -> Response:
        assert isinstance(err, BackendError)
        if isinstance(err, SignedOut):
            return to_sign_in(request, expired=True)
        if isinstance(err, Forbidden):
            title, code = "You cannot see this", 403
        elif isinstance(err, NotFound):
            title, code = "Not found", 404
        elif isinstance(err, Rejected):
            title, code = "That could not be done", err.status
        else:
            title, code = "Something is not working", 503
        message = err.detail if code != 503 else f"{err.detail}. Please try again in a minute."
        return render(request, "error.html", status_code=code, title=title, message=message, back=None)

    async def on_not_found(request: Request, err: Exception) -> Response:
        status = err.status_code if isinstance(err, StarletteHTTPException) else 404
        problems = field_problems(err) if isinstance(err, RequestValidationError) else []
        if problems:
            return render(
                request,
                "error.html",
                status_code=400,
                title="That could not be used",
                message="; ".join(problems) + ". Go back, correct it and try again.",
                back=None,
            )
        if status == 404 or isinstance(err, RequestValidationError):
            return render(
                request,
                "error.html",
                status_code=404,
                title="Page not found",
                message="There is no page at this address. Check it, or start again from your list of children.",
                back=None,
            )
        detail = err.detail if isinstance(err, StarletteHTTPException) else "The request was not understood."
        return render(
            request,
            "error.html",
            status_code=status,
            title="That did not work",
            message=str(detail),
            back=None,
        )

    app.add_exception_handler(NeedsSignIn, on_needs_sign_in)
    app.add_exception_handler(BadForm, on_bad_form)
    app.add_exception_handler(BackendError, on_backend_error)
    app.add_exception_handler(StarletteHTTPException, on_not_found)
    app.add_exception_handler(RequestValidationError, on_not_found)
    amend_openapi(app, _malformed_is_not_found)


def field_problems(err: RequestValidationError) -> list[str]:
    """What is wrong with each form or query field, in words a person can act on ("reason: contains the
    control character U+0000 at position 3"; a field sent more than once, as `mention` is, is named too, not
    numbered); none when it is the address itself that is malformed, whatever else is wrong with the form."""
    errors = err.errors()
    if any(error.get("loc", ())[:1] == ("path",) for error in errors):
        return []
    problems = []
    for error in errors:
        loc = error.get("loc", ())
        if len(loc) >= 2 and loc[0] in ("query", "body"):
            message = str(error.get("msg", "")).removeprefix("Value error, ")
            problems.append(f"{loc[1]}: {message}")
    return problems


def _malformed_is_not_found(document: dict[str, Any]) -> None:
    """The document says what a browser gets instead of FastAPI's 422 list of problems, which this app never
    answers: a page naming the field for a form or query field it cannot use (400), the not-found page for a
    malformed address (404), both in HTML."""
    html = {"text/html": {"schema": {"type": "string"}}}
    for op in operations(document):
        if op.get("responses", {}).pop("422", None) is not None:
            op["responses"]["404"] = {
                "description": "Page not found: the address is malformed",
                "content": html,
            }
            if op.get("requestBody") or any(p.get("in") == "query" for p in op.get("parameters", [])):
                op["responses"]["400"] = {
                    "description": "A form or query field that cannot be used (too long, a control character): "
                    "the page names it",
                    "content": html,
                }


def keep_refreshed(request: Request, response: Response, settings: WebSettings) -> None:
    """The pair a page refreshed its sign-in with goes back in the cookies (`pages.common.signed_in`)."""
    refreshed = getattr(request.state, "refreshed", None)
    if refreshed is None:
        return
    secure = settings.cookie_secure
    security.set_session(response, refreshed.access_token, max_age=refreshed.expires_in, secure=secure)
    if refreshed.refresh_token and refreshed.refresh_expires_at:
        lasts = int((refreshed.refresh_expires_at - datetime.now(UTC)).total_seconds())
        security.set_refresh(response, refreshed.refresh_token, max_age=lasts, secure=secure)


def install_middleware(app: FastAPI, registry: CollectorRegistry, settings: WebSettings) -> None:
    """Security headers on every answer, refreshed sign-in cookies, and request metrics (correlation ids
    come from `build_app`)."""
    app.add_middleware(PageHeaders, registry=registry, settings=settings)


class PageHeaders:
    """What `install_middleware` adds, as plain ASGI: Starlette's `BaseHTTPMiddleware` ran each page through
    a second task and a memory stream, a tenth of the web's time under load."""

    def __init__(self, app: ASGIApp, *, registry: CollectorRegistry, settings: WebSettings) -> None:
        self._app = app
        self._settings = settings
        self._requests = Counter(
            "web_http_requests_total",
            "Requests the web answered",
            ["method", "route", "status"],
            registry=registry,
        )
        self._latency = Histogram(
            "web_http_request_seconds", "Time to answer a request", ["route"], registry=registry
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                self._amend(scope, MutableHeaders(scope=message))
            await send(message)

        try:
            await self._app(scope, receive, with_headers)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            self._requests.labels(scope["method"], route, str(status)).inc()
            self._latency.labels(route).observe(time.perf_counter() - started)

    def _amend(self, scope: Scope, headers: MutableHeaders) -> None:
        cookies = Response()
        keep_refreshed(Request(scope), cookies, self._settings)
        for name, value in cookies.raw_headers:
            if name == b"set-cookie":
                headers.append("set-cookie", value.decode("latin-1"))
        headers.setdefault("Content-Security-Policy", CSP)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        # same-origin, not no-referrer: with no-referrer browsers send `Origin: null` on our own form posts.
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        if not scope["path"].startswith("/static/"):
            # Pages show a child's case: never keep them in a shared cache or the browser's back-button cache.
            headers.setdefault("Cache-Control", "no-store")
