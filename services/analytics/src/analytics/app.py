"""Composition root of the analytics service: everything it consumes, runs and serves is declared here."""

from __future__ import annotations

from fastapi import FastAPI

from analytics import api, errors, handlers
from analytics.deps import Analytics
from analytics.settings import AnalyticsSettings
from analytics.store import AnalyticsStore, MongoAnalyticsStore
from shared.access import SnapshotStore
from shared.audit import AuditSink
from shared.contact_feed import ContactFeed
from shared.contracts.accounts import decode_account_event
from shared.contracts.contacts import ContactEnvelope, decode_contact_event
from shared.contracts.identity import decode_identity_event
from shared.guard import local_guard
from shared.service import Runtime, service_app


def create_app(
    settings: AnalyticsSettings | None = None,
    *,
    store: AnalyticsStore | None = None,
    snapshots: SnapshotStore | None = None,
    audit_sink: AuditSink | None = None,
) -> FastAPI:
    settings = settings or AnalyticsSettings()
    runtime = Runtime.create(settings)
    topics = runtime.topics
    if store is None:
        store = MongoAnalyticsStore(runtime.db)
    guard = local_guard(runtime, snapshots=snapshots, audit_sink=audit_sink)
    snapshots = guard.snapshots
    feed = ContactFeed(handlers.on_contacts(store))

    runtime.on_start(store.create_indexes, snapshots.create_indexes)
    runtime.consume(
        topics.contacts,
        decode=decode_contact_event,
        handle=feed.on_agency_contacts,
        title="analytics: agency contacts",
    )
    runtime.consume(
        [topics.identity_events],
        group="identified",
        decode=decode_identity_event,
        handle=feed.on_identified_contacts,
        title="analytics: identified contacts",
    )
    runtime.consume(
        [topics.accounts_events],
        group="access",
        decode=decode_account_event,
        handle=snapshots.on_account_events,
        on_dead_letter=snapshots.on_dead_letter,
        title="analytics: account events into the access snapshot",
    )

    app = service_app(
        runtime,
        title="Safeguarding 2.0 — analytics",
        description="Read models for each child's contact graph (and, later, keyword cloud and scale history).",
        routers=[api.router],
        errors=errors.STATUSES,
        message_schemas=dict.fromkeys(topics.contacts, ContactEnvelope),
    )
    app.state.analytics = Analytics(store=store, guard=guard)
    return app
