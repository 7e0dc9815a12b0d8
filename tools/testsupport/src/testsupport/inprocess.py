"""Services' apps in-process on a run of their own: the run's topics (granted to the service users), a
database per app, each app's lifespan entered and an httpx client on it over ASGI, and an administrator's
publisher. For real-stack tests that need two services talking through Kafka without starting processes."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from pymongo import AsyncMongoClient

from devstack import service_users
from devstack.infra import Endpoints
from shared import mongo
from shared.topics import Topics, ensure_topics

# An app from the settings every app of the run shares (brokers, topics, groups, keys) and its database.
AppFactory = Callable[[dict[str, Any], str], FastAPI]


@dataclass
class Run:
    topics: Topics
    clients: dict[str, httpx.AsyncClient]
    databases: dict[str, str]
    publisher: KafkaBroker
    mongo: AsyncMongoClient[mongo.Document]


@asynccontextmanager
async def apps_on_a_run(infra: Endpoints, apps: Mapping[str, AppFactory], *, jwks: str) -> AsyncIterator[Run]:
    topics = Topics(prefix=f"t{uuid.uuid4().hex[:8]}.")
    await ensure_topics(infra.kafka_bootstrap, topics.all(), credentials=infra.kafka_admin)
    service_users.grant_run(infra.kafka_bootstrap, topics)
    databases = {name: f"test_{uuid.uuid4().hex}" for name in apps}
    common: dict[str, Any] = {
        "kafka_bootstrap": infra.kafka_bootstrap,
        "mongo_url": infra.mongo_url,
        "topic_prefix": topics.prefix,
        "consumer_group_suffix": f"-{uuid.uuid4().hex[:8]}",
        "auth_jwks": jwks,
    }
    built = {name: make(common, databases[name]) for name, make in apps.items()}
    publisher = KafkaBroker(infra.kafka_bootstrap, security=infra.kafka_admin.faststream())
    await publisher.start()
    client = mongo.connect(infra.mongo_url, app_name="test")
    try:
        async with AsyncExitStack() as stack:
            clients = {}
            for name, app in built.items():
                await stack.enter_async_context(app.router.lifespan_context(app))
                transport = httpx.ASGITransport(app=app)
                clients[name] = await stack.enter_async_context(
                    httpx.AsyncClient(transport=transport, base_url=f"http://{name}")
                )
            yield Run(topics, clients, databases, publisher, client)
    finally:
        await publisher.stop()
        for database in databases.values():
            await client.drop_database(database)
        await client.close()
