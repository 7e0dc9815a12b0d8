"""Run a service's app under uvicorn: SIGTERM stops consuming, awaits in-flight work, then exits."""

from __future__ import annotations

import uvicorn
from fastapi import FastAPI

from shared.settings import ServiceSettings


def run(app: FastAPI, settings: ServiceSettings) -> None:
    uvicorn.run(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,  # keep our JSON logging
        access_log=False,
        timeout_graceful_shutdown=20,
    )
