"""Composition root of the chronology service."""

from __future__ import annotations

from fastapi import FastAPI

from chronology import api, handlers
from chronology.settings import ChronologySettings
from chronology.store import MongoChronologyStore
from shared.contracts.contacts import ContactEnvelope
from shared.guard import guard_for
from shared.outbox import OutboxRelay
from shared.service import Runtime, build_app


def create_app(
    settings: ChronologySettings | None = None, *, store: MongoChronologyStore | None = None
) -> FastAPI:
    settings = settings or ChronologySettings()
    runtime = Runtime.create(settings)
    store = store or MongoChronologyStore(runtime.db)
    guard = guard_for(runtime)
    relay = OutboxRelay(store.marks, runtime.broker)
    runtime.background.append(relay)
    handlers.register(runtime, store)
    return build_app(
        runtime,
        title="Safeguarding 2.0 — chronology",
        description="One multi-agency chronology per child, built from agencies' contact events.",
        routers=[api.router(store, guard, runtime.topics, relay)],
        on_start=[store.create_indexes],
        message_schemas=dict.fromkeys(runtime.topics.contacts, ContactEnvelope),
    )
