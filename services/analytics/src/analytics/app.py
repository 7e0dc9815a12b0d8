"""Composition root of the analytics service: everything it consumes, runs and serves is declared here."""

from __future__ import annotations

from fastapi import FastAPI

from analytics import api, errors, overview, readmodels
from analytics.cloud import api as cloud_api
from analytics.cloud.keywords import Extractor, KeywordPool
from analytics.cloud.store import CloudStore
from analytics.deps import Analytics
from analytics.scales import api as scales_api
from analytics.scales.store import ScaleStore
from analytics.settings import AnalyticsSettings
from analytics.store import AnalyticsStore
from shared.access import SnapshotStore
from shared.audit import AuditSink
from shared.guard import consume_account_events, local_guard
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
    guard = local_guard(runtime, snapshots=snapshots, audit_sink=audit_sink)
    snapshots = guard.snapshots
    pool = keywords or KeywordPool(settings.keyword_workers)
    store = runtime.read_model(readmodels.graph(topics), store)
    cloud = runtime.read_model(
        readmodels.cloud(topics, pool=pool, snapshots=snapshots, workers=settings.keyword_workers),
        None if cloud is None else readmodels.CloudStores(cloud),
    ).store
    scales = runtime.read_model(readmodels.scales(topics), scales)

    runtime.on_start(
        store.create_indexes,
        cloud.create_indexes,
        scales.create_indexes,
        snapshots.create_indexes,
        pool.start,
    )
    consume_account_events(runtime, snapshots, title="analytics: account events into the access snapshot")

    app = service_app(
        runtime,
        title="Safeguarding 2.0 — analytics",
        description="Read models for each child's contact graph, keyword cloud and safety-scale history.",
        routers=[api.router, cloud_api.router, scales_api.router, overview.router],
        errors=errors.STATUSES,
        publishes=[topics.audit_events],
    )
    runtime.lifecycle.on_stop.append(
        pool.stop
    )  # after the consumers have stopped (service_app put them first)
    app.state.analytics = Analytics(store=store, cloud=cloud, scales=scales, guard=guard)
    return app
