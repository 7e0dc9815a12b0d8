"""Analytics' read models, declared once for the live consumers (`analytics.app`) and for the rebuild
(`python -m analytics rebuild`, `shared.rebuild`): which stores, which collections, which feeds.

A new read model is one declaration here and one line in `read_models` (and one `runtime.read_model` line in
`analytics.app`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from analytics import handlers
from analytics.cloud import service as cloud_service
from analytics.cloud import store as cloud_store
from analytics.cloud.keywords import Extractor, KeywordPool
from analytics.cloud.store import CloudStore, MongoCloudStore
from analytics.scales import store as scale_store
from analytics.scales.store import MongoScaleStore, ScaleStore
from analytics.settings import AnalyticsSettings
from analytics.store import INDEXES, AnalyticsStore, MongoAnalyticsStore
from shared import mongo
from shared.access import AccessSnapshots, SnapshotStore
from shared.contact_feed import ContactFeed, ContactHandler
from shared.contracts.contacts import decode_contact_event
from shared.contracts.forum import decode_forum_event
from shared.contracts.identity import decode_identity_event
from shared.readmodel import Feed, ModelView, ReadModel
from shared.rebuild import run_command
from shared.topics import Topics


def contact_feeds(topics: Topics, handle: ContactHandler, *, title: str, group: str = "") -> list[Feed]:
    """A contact read model's two feeds: contacts named by NHS number, and those accounts identified later."""
    feed = ContactFeed(handle)
    prefix = f"{group}-" if group else ""
    return [
        Feed(tuple(topics.contacts), decode_contact_event, feed.on_agency_contacts, title, group=group),
        Feed(
            (topics.identity_events,),
            decode_identity_event,
            feed.on_identified_contacts,
            title.replace("agency contacts", "identified contacts"),
            group=f"{prefix}identified",
        ),
    ]


def graph(topics: Topics) -> ReadModel[AnalyticsStore]:
    """The contact graph: one point per agency contact."""

    def open_store(view: ModelView, previous: ModelView | None) -> AnalyticsStore:
        return MongoAnalyticsStore(view.db, view)

    return ReadModel(
        name="graph",
        collections=INDEXES,
        open=open_store,
        feeds=lambda store: contact_feeds(
            topics, handlers.on_contacts(store), title="analytics: agency contacts"
        ),
    )


@dataclass
class CloudStores:
    """One generation of the cloud, and what a rebuild of it adds. Its two feeds (contacts, posts) may save a
    child's clouds at once, here or in another replica: each saves over the revision it read (`CloudStore`)."""

    store: CloudStore
    rebuilding: cloud_service.Rebuilding | None = None


def cloud(
    topics: Topics, *, pool: Extractor, snapshots: SnapshotStore, workers: int = 1
) -> ReadModel[CloudStores]:
    """The keyword cloud: each contact's kept keywords and each child's clouds. Its feeds have groups of their
    own: YAKE is slow, and the graph must not wait for it."""

    def open_stores(view: ModelView, previous: ModelView | None) -> CloudStores:
        store = MongoCloudStore(view.db, view)
        if previous is None:
            return CloudStores(store)
        return CloudStores(store, cloud_service.Rebuilding(MongoCloudStore(previous.db, previous)))

    def feeds(stores: CloudStores) -> list[Feed]:
        handle = handlers.on_cloud_contacts(stores.store, pool, snapshots, stores.rebuilding)
        posts = Feed(
            (topics.forum_events,),
            decode_forum_event,
            handlers.on_cloud_posts(stores.store, pool, snapshots),
            "analytics: forum posts into the keyword cloud",
            group="cloud-forum",
        )
        contacts = contact_feeds(
            topics, handle, title="analytics: agency contacts into the keyword cloud", group="cloud"
        )
        return [*contacts, posts]

    async def finish(stores: CloudStores) -> None:
        if stores.rebuilding is not None:
            await cloud_service.finish_rebuild(
                store=stores.store, snapshots=snapshots, rebuilding=stores.rebuilding
            )

    async def report(stores: CloudStores, seconds: float) -> list[str]:
        done = stores.rebuilding
        if done is None:
            return []
        documents = done.reused + done.extracted
        rate = documents / max(seconds, 1e-9)
        if not done.samples:
            return ["cloud: no documents to rebuild; YAKE's ceiling not measured"]
        ceiling = await cloud_service.yake_ceiling(pool, done.samples, workers)
        return [
            f"cloud: {documents:,} documents in {seconds:.1f}s = {rate:,.0f} documents/s "
            f"({done.reused:,} keywords reused, {done.extracted:,} extracted by YAKE)",
            f"cloud: YAKE's ceiling here with {workers} worker(s): {ceiling:,.0f} documents/s; the rebuild ran "
            f"at {rate / max(ceiling, 1e-9):.1f}x that",
        ]

    return ReadModel(
        name="cloud",
        collections=cloud_store.INDEXES,
        open=open_stores,
        feeds=feeds,
        ignore={cloud_store.CLOUDS: frozenset({"revision"})},  # how many saves it took, not what they hold
        finish=finish,
        report=report,
    )


def scales(topics: Topics) -> ReadModel[ScaleStore]:
    """The safety-scale history: one document per scale recorded in the forum."""

    def open_store(view: ModelView, previous: ModelView | None) -> ScaleStore:
        return MongoScaleStore(view.db, view)

    return ReadModel(
        name="scales",
        collections=scale_store.INDEXES,
        open=open_store,
        feeds=lambda store: [
            Feed(
                (topics.forum_events,),
                decode_forum_event,
                handlers.on_scales(store),
                "analytics: safety scales from the forum into their history",
                group="scales",
            )
        ],
    )


def read_models(
    topics: Topics, *, pool: Extractor, snapshots: SnapshotStore, workers: int = 1
) -> Sequence[ReadModel[Any]]:
    """Every read model of the service, for the rebuild: one line a model."""
    return [
        graph(topics),
        cloud(topics, pool=pool, snapshots=snapshots, workers=workers),
        scales(topics),
    ]


async def rebuild_command(settings: AnalyticsSettings, argv: Sequence[str]) -> int:
    """`python -m analytics rebuild`: see `shared.rebuild`. Names come from the service's access snapshots."""
    client = mongo.connect(settings.mongo_url, app_name=f"{settings.service_name}-rebuild")
    pool = KeywordPool(settings.keyword_workers)
    await pool.start()
    try:
        snapshots = AccessSnapshots(client[settings.database])
        models = read_models(
            Topics(settings.topic_prefix), pool=pool, snapshots=snapshots, workers=settings.keyword_workers
        )
        return await run_command(settings, argv, client=client, models=models)
    finally:
        await pool.stop()
        await client.close()
