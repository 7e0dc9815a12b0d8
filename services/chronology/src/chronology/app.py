"""Composition root of the chronology service."""

from __future__ import annotations

from fastapi import FastAPI

from chronology import api, handlers
from chronology.settings import ChronologySettings
from chronology.store import ChronologyStore, MongoChronologyStore
from shared.access import SnapshotStore
from shared.audit import AuditSink
from shared.contracts.contacts import ContactEnvelope
from shared.guard import guard_for
from shared.outbox import OutboxRelay
from shared.service import Runtime, build_app


def create_app(
    settings: ChronologySettings | None = None,
    *,
    store: ChronologyStore | None = None,
    snapshots: SnapshotStore | None = None,
    audit_sink: AuditSink | None = None,
) -> FastAPI:
    """The chronology service; unit tests pass in-memory `store`, `snapshots` and `audit_sink`."""
    settings = settings or ChronologySettings()
    runtime = Runtime.create(settings)
    if store is None:
        store = MongoChronologyStore(runtime.db)
    guard = guard_for(runtime, snapshots=snapshots, audit_sink=audit_sink)
    relay = OutboxRelay(store.outbox, runtime.broker)
    runtime.background.append(relay)
    handlers.register(runtime, store)
    app = build_app(
        runtime,
        title="Safeguarding 2.0 — chronology",
        description="One multi-agency chronology per child, built from agencies' contact events.",
        routers=[api.router(store, guard, runtime.topics, relay)],
        on_start=[store.create_indexes],
        message_schemas=dict.fromkeys(runtime.topics.contacts, ContactEnvelope),
    )
    app.state.runtime = runtime
    return app
