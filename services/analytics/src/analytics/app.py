"""Composition root of the analytics service: everything it consumes, runs and serves is declared here."""

from __future__ import annotations

from fastapi import FastAPI

from analytics import api, errors, handlers
from analytics.cloud import api as cloud_api
from analytics.cloud.keywords import Extractor, KeywordPool
from analytics.cloud.store import CloudStore, MongoCloudStore
from analytics.deps import Analytics
from analytics.scales import api as scales_api
from analytics.scales.store import MongoScaleStore, ScaleStore
from analytics.settings import AnalyticsSettings
from analytics.store import AnalyticsStore, MongoAnalyticsStore
from shared.access import SnapshotStore
from shared.audit import AuditSink
from shared.contact_feed import ContactFeed
from shared.contracts.accounts import decode_account_event
from shared.contracts.contacts import decode_contact_event
from shared.contracts.forum import decode_forum_event
from shared.contracts.identity import decode_identity_event
from shared.guard import local_guard
from shared.service import Runtime, service_app


def create_app(
    settings: AnalyticsSettings | None = None,
    *,
    store: AnalyticsStore | None = None,
    cloud: CloudStore | None = None,
    scales: ScaleStore | None = None,
    keywords: Extractor | None = None,
    snapshots: SnapshotStore | None = None,
    audit_sink: AuditSink | None = None,
) -> FastAPI:
    settings = settings or AnalyticsSettings()
    runtime = Runtime.create(settings)
    topics = runtime.topics
    if store is None:
        store = MongoAnalyticsStore(runtime.db)
    if cloud is None:
        cloud = MongoCloudStore(runtime.db)
    if scales is None:
        scales = MongoScaleStore(runtime.db)
    guard = local_guard(runtime, snapshots=snapshots, audit_sink=audit_sink)
    snapshots = guard.snapshots
    feed = ContactFeed(handlers.on_contacts(store))
    # The cloud reads the same contacts in groups of its own: YAKE is slow, and the graph must not wait for it.
    pool = keywords or KeywordPool(settings.keyword_workers)
    cloud_feed = ContactFeed(handlers.on_cloud_contacts(cloud, pool, snapshots))

    runtime.on_start(
        store.create_indexes,
        cloud.create_indexes,
        scales.create_indexes,
        snapshots.create_indexes,
        pool.start,
    )
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
        topics.contacts,
        group="cloud",
        decode=decode_contact_event,
        handle=cloud_feed.on_agency_contacts,
        title="analytics: agency contacts into the keyword cloud",
    )
    runtime.consume(
        [topics.identity_events],
        group="cloud-identified",
        decode=decode_identity_event,
        handle=cloud_feed.on_identified_contacts,
        title="analytics: identified contacts into the keyword cloud",
    )
    runtime.consume(
        [topics.forum_events],
        group="cloud-forum",
        decode=decode_forum_event,
        handle=handlers.on_cloud_posts(cloud, pool, snapshots),
        title="analytics: forum posts into the keyword cloud",
    )
    runtime.consume(
        [topics.forum_events],
        group="scales",
        decode=decode_forum_event,
        handle=handlers.on_scales(scales),
        title="analytics: safety scales from the forum into their history",
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
        description="Read models for each child's contact graph, keyword cloud and safety-scale history.",
        routers=[api.router, cloud_api.router, scales_api.router],
        errors=errors.STATUSES,
        publishes=[topics.audit_events],
    )
    runtime.lifecycle.on_stop.append(
        pool.stop
    )  # after the consumers have stopped (service_app put them first)
    app.state.analytics = Analytics(store=store, cloud=cloud, scales=scales, guard=guard)
    return app
