"""Composition root of the chronology service."""

from __future__ import annotations

from fastapi import FastAPI
from shared.contracts.contacts import ContactRecorded
from shared.events import Envelope
from shared.service import Runtime, build_app
from shared.topics import CONTACT_TOPICS

from chronology import api, handlers
from chronology.settings import ChronologySettings
from chronology.store import ChronologyStore


def create_app(
    settings: ChronologySettings | None = None, *, store: ChronologyStore | None = None
) -> FastAPI:
    runtime = Runtime.create(settings or ChronologySettings())
    store = store or ChronologyStore(runtime.db)
    handlers.register(runtime, store)
    return build_app(
        runtime,
        title="Safeguarding 2.0 — chronology",
        description="One multi-agency chronology per child, built from agencies' contact events.",
        routers=[api.router(store)],
        on_start=[store.create_indexes],
        message_schemas=dict.fromkeys(CONTACT_TOPICS, Envelope[ContactRecorded]),
    )
