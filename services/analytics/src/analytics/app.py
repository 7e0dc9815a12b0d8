"""Composition root of the analytics service."""

from __future__ import annotations

from fastapi import FastAPI

from analytics import api, handlers
from analytics.settings import AnalyticsSettings
from analytics.store import AnalyticsStore, MongoAnalyticsStore
from shared.access import SnapshotStore
from shared.audit import AuditSink
from shared.contracts.contacts import ContactEnvelope
from shared.guard import guard_for
from shared.service import Runtime, build_app


def create_app(
    settings: AnalyticsSettings | None = None,
    *,
    store: AnalyticsStore | None = None,
    snapshots: SnapshotStore | None = None,
    audit_sink: AuditSink | None = None,
) -> FastAPI:
    """The analytics service; unit tests pass in-memory `store`, `snapshots` and `audit_sink`."""
    settings = settings or AnalyticsSettings()
    runtime = Runtime.create(settings)
    if store is None:
        store = MongoAnalyticsStore(runtime.db)
    guard = guard_for(runtime, snapshots=snapshots, audit_sink=audit_sink)
    handlers.register(runtime, store)
    app = build_app(
        runtime,
        title="Safeguarding 2.0 — analytics",
        description="Read models for each child's contact graph (and, later, keyword cloud and scale history).",
        routers=[api.router(store, guard)],
        on_start=[store.create_indexes],
        message_schemas=dict.fromkeys(runtime.topics.contacts, ContactEnvelope),
    )
    app.state.runtime = runtime
    return app
