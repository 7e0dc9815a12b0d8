"""Composition root of the chronology service: everything it consumes, runs and serves is declared here."""

from __future__ import annotations

from fastapi import FastAPI

from chronology import api, errors, handlers
from chronology.deps import Chronology
from chronology.settings import ChronologySettings
from chronology.store import MARKS, ChronologyStore, MongoChronologyStore
from shared.access import SnapshotStore
from shared.audit import AuditSink
from shared.contact_feed import ContactFeed
from shared.contracts.accounts import decode_account_event
from shared.contracts.contacts import decode_contact_event
from shared.contracts.forum import decode_forum_event
from shared.contracts.identity import decode_identity_event
from shared.guard import local_guard
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
    if store is None:
        store = MongoChronologyStore(runtime.db)
    marks_outbox = outbox or DocumentOutbox(runtime.db[MARKS])
    guard = local_guard(runtime, snapshots=snapshots, audit_sink=audit_sink)
    snapshots = guard.snapshots
    relay = OutboxRelay(marks_outbox, kafka_publisher(runtime.broker), runtime.outbox_metrics)
    feed = ContactFeed(handlers.on_contacts(store))

    runtime.on_start(store.create_indexes, snapshots.create_indexes)
    runtime.consume(
        topics.contacts,
        decode=decode_contact_event,
        handle=feed.on_agency_contacts,
        title="chronology: agency contacts",
    )
    runtime.consume(
        [topics.identity_events],
        group="identified",
        decode=decode_identity_event,
        handle=feed.on_identified_contacts,
        title="chronology: identified contacts",
    )
    runtime.consume(
        [topics.accounts_events],
        group="timeline",
        decode=decode_account_event,
        handle=handlers.on_account_events(store),
        title="chronology: account changes onto the timeline",
    )
    runtime.consume(
        [topics.accounts_events],
        group="access",
        decode=decode_account_event,
        handle=snapshots.on_account_events,
        on_dead_letter=snapshots.on_dead_letter,
        title="chronology: account events into the access snapshot",
    )
    runtime.consume(
        [topics.forum_events],
        group="forum",
        decode=decode_forum_event,
        handle=handlers.on_forum_events(store),
        title="chronology: forum worries, pins and scales onto the timeline",
    )
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
