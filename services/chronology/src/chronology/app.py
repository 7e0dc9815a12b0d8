"""Composition root of the chronology service: everything it consumes, runs and serves is declared here."""

from __future__ import annotations

from fastapi import FastAPI

from chronology import api, errors, readmodels
from chronology.deps import Chronology
from chronology.settings import ChronologySettings
from chronology.store import MARKS, ChronologyStore
from shared.access import SnapshotStore
from shared.audit import AuditSink
from shared.guard import consume_account_events, local_guard
from shared.outbox import DocumentOutbox, Outbox, OutboxRelay, kafka_publisher
from shared.service import Runtime, service_app


def create_app(
    settings: ChronologySettings | None = None,
    *,
    store: ChronologyStore | None = None,
    snapshots: SnapshotStore | None = None,
    audit_sink: AuditSink | None = None,
    outbox: Outbox | None = None,
) -> FastAPI:
    settings = settings or ChronologySettings()
    runtime = Runtime.create(settings)
    topics = runtime.topics
    store = runtime.read_model(readmodels.chronology(topics), store)
    marks_outbox = outbox or DocumentOutbox(runtime.db[MARKS])
    guard = local_guard(runtime, snapshots=snapshots, audit_sink=audit_sink)
    snapshots = guard.snapshots
    relay = OutboxRelay(marks_outbox, kafka_publisher(runtime.broker), runtime.outbox_metrics)

    runtime.on_start(store.create_indexes, snapshots.create_indexes)
    consume_account_events(runtime, snapshots, title="chronology: account events into the access snapshot")
    runtime.run_in_background("significance outbox", relay.run)

    app = service_app(
        runtime,
        title="Safeguarding 2.0 — chronology",
        description="One multi-agency chronology per child, built from agencies' contact events.",
        routers=[api.router],
        errors=errors.STATUSES,
        publishes=[topics.chronology_events, topics.audit_events],
    )
    app.state.chronology = Chronology(store=store, guard=guard, topics=topics, notify_outbox=relay.notify)
    return app
