"""Composition root of the forum service: everything it consumes, runs and serves is declared here."""

from __future__ import annotations

from fastapi import FastAPI

from forum import api, errors
from forum.deps import ForumContext
from forum.settings import ForumSettings
from forum.store import ForumStore, MongoForumStore
from shared.access import SnapshotStore
from shared.audit import AuditSink
from shared.guard import consume_account_events, local_guard
from shared.outbox import OutboxRelay, kafka_publisher
from shared.service import Runtime, service_app


def create_app(
    settings: ForumSettings | None = None,
    *,
    store: ForumStore | None = None,
    snapshots: SnapshotStore | None = None,
    audit_sink: AuditSink | None = None,
) -> FastAPI:
    settings = settings or ForumSettings()
    runtime = Runtime.create(settings)
    topics = runtime.topics
    if store is None:
        store = MongoForumStore(runtime.db)
    guard = local_guard(runtime, snapshots=snapshots, audit_sink=audit_sink)
    snapshots = guard.snapshots
    # The store is its own outbox: each stored change carries the events it publishes (forum.store).
    relay = OutboxRelay(store, kafka_publisher(runtime.broker), runtime.outbox_metrics)

    runtime.on_start(store.create_indexes, snapshots.create_indexes)
    consume_account_events(runtime, snapshots, title="forum: account events into the access snapshot")
    runtime.run_in_background("forum outbox", relay.run)

    app = service_app(
        runtime,
        title="Safeguarding 2.0 — forum",
        description="Each child's forum: threads, posts in the Signs of Safety framework, and safety scales.",
        routers=[api.router],
        errors=errors.STATUSES,
        publishes=[topics.forum_events, topics.audit_events],
    )
    app.state.forum = ForumContext(store=store, guard=guard, topics=topics, notify_outbox=relay.notify)
    return app
