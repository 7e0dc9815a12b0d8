"""The raw baseline of the page benchmark: the child's page served from memory by a bare FastAPI app.

    python -m bench.page_baseline CONFIG.json   (written by bench.page)

At start it reads, once, what the web would read for each benchmark target (the same backends, as the same
person), then serves `GET /children/{id}` by rendering the web's own template with that data: no backend
call, no token check, no middleware. That is the framework's ceiling for this page on this machine.
`/readyz` answers 200 once everything is loaded.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI, Request, Response

from shared.auth import verifier_from_settings
from web.app import templates
from web.clients import AccountsClient, AnalyticsClient, BackendError, ChronologyClient, NotificationsClient
from web.forum import ForumClient
from web.pages.child import Filters, load_page
from web.pages.common import SignedIn, Web, render
from web.settings import WebSettings

PRELOAD_CONCURRENCY = 8


async def _load(web: Web, user: SignedIn, child_id: str) -> dict[str, Any]:
    """What `web.pages.child.child_page` shows this person and child, with no filters set."""
    try:
        return await load_page(web, user, child_id, Filters())
    except BackendError as err:
        raise RuntimeError(f"baseline preload: {child_id} as {user.principal.subject}: {err}") from err


def create_app(config: dict[str, Any]) -> FastAPI:
    settings = WebSettings(
        accounts_url=config["accounts_url"],
        chronology_url=config["chronology_url"],
        analytics_url=config["analytics_url"],
        forum_url=config["forum_url"],
        auth_jwks=config["jwks"],
        section_timeout_s=60.0,  # the preload is not measured: on a busy machine it must not give up
    )
    pages: dict[tuple[str, str], tuple[SignedIn, dict[str, Any]]] = {}
    ready = asyncio.Event()

    async def preload(web: Web) -> None:
        verifier = verifier_from_settings(settings)
        gate = asyncio.Semaphore(PRELOAD_CONCURRENCY)

        async def one(path: str, token: str) -> None:
            async with gate:
                user = SignedIn(principal=await verifier.verify(token), token=token)
                for attempt in range(3):  # the backends may still be draining the benchmark's backlog
                    try:
                        pages[(path, token)] = (user, await _load(web, user, path.rsplit("/", 1)[1]))
                        return
                    except RuntimeError:
                        if attempt == 2:
                            raise
                        await asyncio.sleep(2)

        try:
            await asyncio.gather(*(one(t["path"], t["token"]) for t in config["targets"]))
        except BaseException as exc:  # a baseline without its pages must say so, not wait forever
            print(f"baseline preload failed: {exc!r}", file=sys.stderr, flush=True)
            os._exit(1)
        ready.set()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        def client(url: str) -> httpx.AsyncClient:
            return httpx.AsyncClient(base_url=url, timeout=120)

        web = Web(
            settings=settings,
            templates=templates(),
            verifier=verifier_from_settings(settings),
            accounts=AccountsClient(client(settings.accounts_url)),
            chronology=ChronologyClient(client(settings.chronology_url)),
            analytics=AnalyticsClient(client(settings.analytics_url)),
            forum=ForumClient(client(settings.forum_url)),
            notifications=NotificationsClient(client(settings.notifications_url)),
        )
        app.state.web = web
        task = asyncio.create_task(preload(web))
        yield
        task.cancel()
        for backend in (web.accounts, web.chronology, web.analytics, web.forum):
            await backend.close()

    app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/readyz")
    async def readyz() -> Response:
        return Response(status_code=200 if ready.is_set() else 503)

    @app.get("/children/{child_id}")
    async def child_page(request: Request, child_id: str) -> Response:
        token = request.cookies.get("sg_session", "")
        user, context = pages[(request.url.path, token)]
        request.state.user = user
        return render(request, "child.html", today=date.today(), **context)

    return app


if __name__ == "__main__":
    cfg = json.loads(Path(sys.argv[1]).read_text())
    uvicorn.run(
        create_app(cfg), host="127.0.0.1", port=int(cfg["port"]), log_level="warning", access_log=False
    )
