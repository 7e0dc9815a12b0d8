"""Composition root of the analytics service."""

from __future__ import annotations

from fastapi import FastAPI

from analytics import api, handlers
from analytics.settings import AnalyticsSettings
from analytics.store import MongoAnalyticsStore
from shared.contracts.contacts import ContactEnvelope
from shared.guard import guard_for
from shared.service import Runtime, build_app


def create_app(
    settings: AnalyticsSettings | None = None, *, store: MongoAnalyticsStore | None = None
) -> FastAPI:
    settings = settings or AnalyticsSettings()
    runtime = Runtime.create(settings)
    store = store or MongoAnalyticsStore(runtime.db)
    guard = guard_for(runtime)
    handlers.register(runtime, store)
    return build_app(
        runtime,
        title="Safeguarding 2.0 — analytics",
        description="Read models for each child's contact graph (and, later, keyword cloud and scale history).",
        routers=[api.router(store, guard)],
        on_start=[store.create_indexes],
        message_schemas=dict.fromkeys(runtime.topics.contacts, ContactEnvelope),
    )
