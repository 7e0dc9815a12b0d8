"""The composition every service shares: Mongo + broker lifecycle, health, metrics, AsyncAPI, logging.

A service's own `app.py` builds its store, registers its subscribers and routes, and hands them here; this
module never imports a service.
"""

from __future__ import annotations

import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar
from urllib.parse import unquote

from fastapi import APIRouter, FastAPI, Request, Response
from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI
from prometheus_client import CollectorRegistry
from pydantic import BaseModel
from pymongo import AsyncMongoClient

from shared import mongo
from shared.auth import AuthSettings, install_verifier, verifier_from_settings
from shared.health import health_router
from shared.kafka.broker import make_broker
from shared.kafka.consumer import (
    BatchHandler,
    BatchProcessor,
    ConsumerMetrics,
    Decoder,
    RetryPolicy,
    subscribe_batches,
)
from shared.kafka.deadletter import DeadLetters
from shared.kafka.lag import LagMonitor, lag_gauge
from shared.logs import configure_logging, correlation_id
from shared.settings import ServiceSettings
from shared.topics import Topics

log = logging.getLogger(__name__)
T = TypeVar("T")


class Background(Protocol):
    """A task that runs beside the consumers (an outbox relay, a lag monitor)."""

    def start(self) -> None: ...

    async def stop(self) -> None: ...


@dataclass
class Runtime:
    """The resources one service process holds, created once in its `create_app`."""

    settings: ServiceSettings
    registry: CollectorRegistry
    broker: KafkaBroker
    mongo_client: AsyncMongoClient[mongo.Document]
    consumer_metrics: ConsumerMetrics
    consumed_groups: dict[str, list[str]] = field(default_factory=dict)  # consumer group → its topics
    startup: list[Callable[[], Awaitable[None]]] = field(default_factory=list)  # run before consuming starts
    background: list[Background] = field(default_factory=list)  # started with the broker, stopped before it

    @classmethod
    def create(cls, settings: ServiceSettings) -> Runtime:
        registry = CollectorRegistry()
        return cls(
            settings=settings,
            registry=registry,
            broker=make_broker(settings.kafka_bootstrap, service=settings.service_name, registry=registry),
            mongo_client=mongo.connect(settings.mongo_url, app_name=settings.service_name),
            consumer_metrics=ConsumerMetrics.create(registry),
        )

    @property
    def topics(self) -> Topics:
        return Topics(self.settings.topic_prefix)

    @property
    def db(self) -> Any:
        return self.mongo_client[self.settings.database]

    def consume(
        self,
        topics: Sequence[str],
        *,
        decode: Decoder[T],
        handle: BatchHandler[T],
        title: str,
        group: str = "",
    ) -> None:
        """Consume `topics` in batches in this service's consumer group, with retries and dead letters.

        A second subscription in the same process needs its own `group` suffix: two aiokafka consumers with
        one group id but different topics keep rebalancing each other and one may get no partitions."""
        settings = self.settings
        group_id = settings.group_id + (f".{group}" if group else "")
        self.consumed_groups.setdefault(group_id, []).extend(topics)
        subscribe_batches(
            self.broker,
            topics,
            group_id=group_id,
            max_records=settings.batch_max_records,
            title=title,
            processor=BatchProcessor(
                decode=decode,
                handle=handle,
                dead_letters=DeadLetters(self.broker, consumer_group=group_id),
                retry=RetryPolicy(attempts=settings.retry_attempts, backoff_s=settings.retry_backoff_s),
                metrics=self.consumer_metrics,
            ),
        )


def build_app(
    runtime: Runtime,
    *,
    title: str,
    description: str,
    routers: Sequence[APIRouter] = (),
    on_start: Sequence[Callable[[], Awaitable[None]]] = (),
    message_schemas: Mapping[str, type[BaseModel]] | None = None,
) -> FastAPI:
    """A FastAPI app that opens Mongo and the broker on start and closes them on SIGTERM.

    `on_start` runs after Mongo answers and before the broker starts consuming (create indexes there).
    `message_schemas` maps a consumed topic to the model its records must match, for the AsyncAPI document.
    """
    settings = runtime.settings
    configure_logging(settings.service_name, settings.log_level)
    gauge = lag_gauge(runtime.registry)
    lags = [
        LagMonitor(settings.kafka_bootstrap, group=group, topics=topics, gauge=gauge)
        for group, topics in runtime.consumed_groups.items()
    ]

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        for step in [*runtime.startup, *on_start]:
            await step()
        await runtime.broker.start()
        tasks: list[Background] = [*lags, *runtime.background]
        for task in tasks:
            task.start()
        log.info("started", extra={"fields": {"port": settings.http_port}})
        try:
            yield
        finally:
            # Stop consuming first: an in-flight batch is awaited (graceful_timeout) or, if cancelled, left
            # uncommitted and redelivered; then close Mongo.
            for task in tasks:
                await task.stop()
            await runtime.broker.stop()
            await runtime.mongo_client.close()
            log.info("stopped")

    app = FastAPI(title=title, description=description, version="0.1.0", lifespan=lifespan)

    async def mongo_ready() -> bool:
        return await mongo.ping(runtime.mongo_client)

    async def kafka_ready() -> bool:
        return bool(await runtime.broker.ping(timeout=2.0))

    app.include_router(
        health_router(registry=runtime.registry, checks={"mongo": mongo_ready, "kafka": kafka_ready})
    )
    for router in routers:
        app.include_router(router)

    spec = asyncapi_document(
        runtime.broker, title=title, description=description, schemas=message_schemas or {}
    )

    app.state.asyncapi_document = spec

    @app.get(
        "/asyncapi.json", tags=["operations"], summary="AsyncAPI document of the events this service handles"
    )
    async def asyncapi() -> Response:
        return Response(json.dumps(spec()), media_type="application/json")

    @app.middleware("http")
    async def with_correlation_id(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        cid = request.headers.get("x-correlation-id") or str(uuid.uuid4())
        token = correlation_id.set(cid)
        try:
            response = await call_next(request)
        finally:
            correlation_id.reset(token)
        response.headers["x-correlation-id"] = cid
        return response

    if isinstance(settings, AuthSettings):
        install_verifier(app, verifier_from_settings(settings))
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
