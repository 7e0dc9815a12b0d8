"""What a service with a broker and a database holds, and how its composition root declares its work.

A service's `app.py` (its composition root) creates one `Runtime`, then says everything the service does
beside answering HTTP, each in one line: what it consumes (`consume`: topics, consumer group, handler), what
runs before it starts (`on_start`) and what runs beside it (`run_in_background`). Nothing else subscribes:
shared building blocks (the access snapshots, the contact feed, the outbox relay) hand out handlers and
coroutines for the root to register. `service_app` turns the runtime into the app (through
`shared.app.build_app`), with the token verifier and the revocations it follows; this module never imports a
service.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar
from urllib.parse import unquote

from aiokafka import ConsumerRebalanceListener
from fastapi import APIRouter, FastAPI, Response
from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI
from prometheus_client import CollectorRegistry
from pydantic import BaseModel
from pymongo import AsyncMongoClient

from shared import mongo
from shared.app import Lifecycle, Step, build_app
from shared.auth import (
    AuthSettings,
    RevocationFeed,
    Revocations,
    install_verifier,
    verifier_from_settings,
)
from shared.contracts.catalog import envelopes
from shared.errors import ErrorStatuses
from shared.kafka.broker import make_broker
from shared.kafka.consumer import (
    BatchHandler,
    BatchProcessor,
    ConsumerMetrics,
    DeadLetterHook,
    Decoder,
    Gather,
    RetryPolicy,
    subscribe_batches,
)
from shared.kafka.deadletter import DeadLetters
from shared.kafka.lag import LagMonitor, lag_gauge
from shared.outbox import OutboxMetrics
from shared.readmodel import Generations, ReadModel
from shared.settings import ServiceSettings
from shared.topics import Topics

log = logging.getLogger(__name__)
T = TypeVar("T")
S = TypeVar("S")


@dataclass(frozen=True)
class Subscription:
    """One consumer of the service: its group, its topics and what it is for."""

    group_id: str
    topics: tuple[str, ...]
    title: str


@dataclass
class Runtime:
    """The resources one service process holds, created once in its `create_app`."""

    settings: ServiceSettings
    registry: CollectorRegistry
    broker: KafkaBroker
    mongo_client: AsyncMongoClient[mongo.Document]
    consumer_metrics: ConsumerMetrics
    outbox_metrics: OutboxMetrics
    subscriptions: list[Subscription] = field(default_factory=list)
    # Topics every replica reads whole, with no consumer group (the token revocations on accounts.events).
    follows: list[str] = field(default_factory=list)
    lifecycle: Lifecycle = field(default_factory=Lifecycle)
    generations: Generations | None = None
    read_models: list[ReadModel[Any]] = field(default_factory=list)

    @classmethod
    def create(cls, settings: ServiceSettings) -> Runtime:
        registry = CollectorRegistry()
        broker = make_broker(
            settings.kafka_bootstrap,
            service=settings.service_name,
            credentials=settings.kafka_credentials(),
            registry=registry,
        )
        return cls(
            settings=settings,
            registry=registry,
            broker=broker,
            mongo_client=mongo.connect(settings.mongo_url, app_name=settings.service_name),
            consumer_metrics=ConsumerMetrics.create(registry),
            outbox_metrics=OutboxMetrics.create(registry),
        )

    @property
    def topics(self) -> Topics:
        return Topics(self.settings.topic_prefix)

    @property
    def db(self) -> Any:
        return self.mongo_client[self.settings.database]

    def read_model(self, model: ReadModel[S], stores: S | None = None) -> S:
        """Consume `model`'s feeds into its served generation (`shared.readmodel`); returns its stores, opened
        over that generation unless given (unit tests give in-memory ones). The rebuild replays the same feeds."""
        if stores is None:
            if self.generations is None:
                self.generations = Generations(self.db)
                # Before anything opens a collection: which generation each model serves; then follow swaps.
                self.lifecycle.on_start.insert(0, self.generations.refresh)
                self.run_in_background("read model generations", self.generations.follow)
            stores = model.open(self.generations.view(model.name), None)
        self.read_models.append(model)
        for feed in model.feeds(stores):
            self.consume(
                feed.topics, group=feed.group, decode=feed.decode, handle=feed.handle, title=feed.title
            )
        return stores

    def on_start(self, *steps: Step) -> None:
        """Run `steps`, in order, once MongoDB answers and before consuming starts (create indexes there)."""
        self.lifecycle.on_start.extend(steps)

    def run_in_background(self, name: str, run: Step) -> None:
        """Run `run()` beside the consumers: started after the broker, cancelled before it stops."""
        self.lifecycle.run_in_background(name, run)

    def consume(
        self,
        topics: Sequence[str],
        *,
        decode: Decoder[T],
        handle: BatchHandler[T],
        title: str,
        group: str = "",
        on_dead_letter: DeadLetterHook | None = None,
        listener: ConsumerRebalanceListener | None = None,
        gather: Gather | None = None,
    ) -> None:
        """Consume `topics` in batches in this service's consumer group, with retries and dead letters;
        `gather` lets the broker hold a fetch to gather a burst into one batch.

        A second subscription in the same process needs its own `group` suffix: two aiokafka consumers with
        one group id but different topics keep rebalancing each other and one may get no partitions."""
        settings = self.settings
        group_id = settings.group_id + (f".{group}" if group else "")
        if any(s.group_id == group_id for s in self.subscriptions):
            raise ValueError(f"consumer group {group_id!r} is subscribed twice; give one its own `group`")
        self.subscriptions.append(Subscription(group_id, tuple(topics), title))
        subscribe_batches(
            self.broker,
            topics,
            group_id=group_id,
            max_records=settings.batch_max_records,
            title=title,
            listener=listener,
            gather=gather,
            processor=BatchProcessor(
                decode=decode,
                handle=handle,
                dead_letters=DeadLetters(self.broker, consumer_group=group_id),
                retry=RetryPolicy(attempts=settings.retry_attempts, backoff_s=settings.retry_backoff_s),
                metrics=self.consumer_metrics,
                on_dead_letter=on_dead_letter,
            ),
        )


def service_app(
    runtime: Runtime,
    *,
    title: str,
    description: str,
    errors: ErrorStatuses,
    routers: Sequence[APIRouter] = (),
    message_schemas: Mapping[str, type[BaseModel]] | None = None,
    streams: frozenset[str] = frozenset(),
    publishes: Sequence[str] = (),
) -> FastAPI:
    """The service's app: MongoDB and the broker opened at start and closed at SIGTERM, readiness on both,
    a lag gauge per consumer group, the AsyncAPI document, and the service's routes and error table.

    The AsyncAPI document lists the topics the service consumes and those it `publishes` (through the outbox
    or its audit sink, which FastStream does not see), each with its envelope from `shared.contracts.catalog`;
    `message_schemas` overrides a topic's model there.
    """
    settings = runtime.settings
    for topic in publishes:
        # For the document only: the outbox and the audit sink publish through the broker's own producer.
        runtime.broker.publisher(topic, title=f"{title}: publishes to {topic}")
    lifecycle = runtime.lifecycle
    lifecycle.on_start.append(runtime.broker.start)
    gauge = lag_gauge(runtime.registry)
    for sub in runtime.subscriptions:
        monitor = LagMonitor(
            settings.kafka_bootstrap,
            credentials=settings.kafka_credentials(),
            group=sub.group_id,
            topics=sub.topics,
            gauge=gauge,
        )
        lifecycle.run_in_background(f"lag {sub.group_id}", monitor.run)

    async def close_mongo() -> None:
        await runtime.mongo_client.close()

    revocations = Revocations()
    if isinstance(settings, AuthSettings) and settings.auth_revocations:
        feed = RevocationFeed(
            settings.kafka_bootstrap,
            runtime.topics.accounts_events,
            credentials=settings.kafka_credentials(),
            revocations=revocations,
            lookback=timedelta(seconds=settings.auth_revocation_lookback_s),
        )
        # Before the first request: a token signed out a minute ago must not pass a replica that just started.
        lifecycle.on_start.append(feed.catch_up)
        lifecycle.run_in_background("token revocations", feed.follow)
        lifecycle.on_stop.append(feed.stop)
        runtime.follows.append(runtime.topics.accounts_events)
    # Stop consuming first: an in-flight batch is awaited (graceful_timeout) or, if cancelled, left
    # uncommitted and redelivered; then close Mongo.
    lifecycle.on_stop.extend([runtime.broker.stop, close_mongo])

    async def mongo_ready() -> bool:
        return await mongo.ping(runtime.mongo_client)

    async def kafka_ready() -> bool:
        return bool(await runtime.broker.ping(timeout=2.0))

    app = build_app(
        settings,
        title=title,
        description=description,
        registry=runtime.registry,
        checks={"mongo": mongo_ready, "kafka": kafka_ready},
        lifecycle=lifecycle,
        routers=routers,
        errors=errors,
        streams=streams,
    )
    spec = asyncapi_document(
        runtime.broker,
        title=title,
        description=description,
        schemas={**envelopes(runtime.topics), **(message_schemas or {})},
    )
    app.state.asyncapi_document = spec
    app.state.runtime = runtime

    @app.get(
        "/asyncapi.json", tags=["operations"], summary="AsyncAPI document of the events this service handles"
    )
    async def asyncapi() -> Response:
        return Response(json.dumps(spec()), media_type="application/json")

    app.state.revocations = revocations
    if isinstance(settings, AuthSettings):
        install_verifier(app, verifier_from_settings(settings, revocations=revocations))
    return app


def asyncapi_document(
    broker: KafkaBroker, *, title: str, description: str, schemas: Mapping[str, type[BaseModel]]
) -> Callable[[], dict[str, Any]]:
    """AsyncAPI 3.0 from FastStream, with each consumed topic's payload set to its contract's JSON Schema.

    Subscribers here read raw records (decoding is ours, see shared.kafka.consumer), so FastStream cannot
    infer their payloads; the contracts are written in instead."""

    def build() -> dict[str, Any]:
        doc: dict[str, Any] = (
            AsyncAPI(broker, title=title, version="0.1.0", description=description)
            .to_specification()
            .to_jsonable()
        )
        components = doc.setdefault("components", {})
        messages = components.setdefault("messages", {})
        comp_schemas = components.setdefault("schemas", {})
        for channel_name, channel in doc.get("channels", {}).items():
            address = channel.get("address", "")
            model = schemas.get(address)
            if model is None:
                continue
            schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            for name, sub in schema.pop("$defs", {}).items():
                comp_schemas[name] = sub
            comp_schemas[model.__name__] = schema
            for ref in channel.get("messages", {}).values():
                target = unquote(ref.get("$ref", "").rsplit("/", 1)[-1])
                if target in messages:
                    old = unquote(messages[target].get("payload", {}).get("$ref", "")).rsplit("/", 1)[-1]
                    comp_schemas.pop(old, None)  # FastStream's stand-in schema for an untyped body
                    messages[target]["payload"] = {"$ref": f"#/components/schemas/{model.__name__}"}
                    messages[target]["title"] = f"{channel_name}: {model.__name__}"
        return doc

    return build
