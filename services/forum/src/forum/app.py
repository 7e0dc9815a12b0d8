"""Composition root of the forum service."""

from __future__ import annotations

from fastapi import FastAPI

from forum.settings import ForumSettings
from shared.errors import SHARED_STATUSES
from shared.service import Runtime, service_app


def create_app(settings: ForumSettings | None = None) -> FastAPI:
    runtime = Runtime.create(settings or ForumSettings())
    return service_app(
        runtime,
        errors=SHARED_STATUSES,
        title="Safeguarding 2.0 — forum",
        description="Each child's forum: threads, posts and safety scales.",
    )
