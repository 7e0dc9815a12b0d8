"""Composition root of the forum service."""

from __future__ import annotations

from fastapi import FastAPI

from forum.settings import ForumSettings
from shared.service import Runtime, build_app


def create_app(settings: ForumSettings | None = None) -> FastAPI:
    runtime = Runtime.create(settings or ForumSettings())
    return build_app(
        runtime,
        title="Safeguarding 2.0 — forum",
        description="Each child's forum: threads, posts and safety scales.",
    )
