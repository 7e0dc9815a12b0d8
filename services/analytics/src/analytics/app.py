"""Composition root of the analytics service."""

from __future__ import annotations

from fastapi import FastAPI
from shared.contracts.contacts import ContactRecorded
from shared.events import Envelope
from shared.service import Runtime, build_app
from shared.topics import CONTACT_TOPICS

from analytics import api, handlers
from analytics.settings import AnalyticsSettings
from analytics.store import AnalyticsStore


def create_app(settings: AnalyticsSettings | None = None, *, store: AnalyticsStore | None = None) -> FastAPI:
    runtime = Runtime.create(settings or AnalyticsSettings())
    store = store or AnalyticsStore(runtime.db)
    handlers.register(runtime, store)
    return build_app(
        runtime,
        title="Safeguarding 2.0 — analytics",
        description="Read models for each child's contact graph (and, later, keyword cloud and scale history).",
        routers=[api.router(store)],
        on_start=[store.create_indexes],
        message_schemas=dict.fromkeys(CONTACT_TOPICS, Envelope[ContactRecorded]),
    )
