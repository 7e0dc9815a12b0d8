"""Composition root of the accounts service."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta

from fastapi import FastAPI

from accounts import api, demo, handlers, identify_api
from accounts.identify import ContactMatchStore
from accounts.outbox import KafkaOutboxPublisher, OutboxPublisher, OutboxRelay
from accounts.service import Accounts
from accounts.settings import AccountsSettings
from accounts.signin import SigningKeys
from accounts.store import AccountsStore, AuditStore
from shared.audit import AuditSink, AuditTrail, KafkaAuditSink
from shared.auth import install_verifier, verifier_from_settings
from shared.contracts.accounts import AccountEventEnvelope
from shared.contracts.audit import AuditRecorded
from shared.events import Envelope
from shared.service import Runtime, build_app


def create_app(
    settings: AccountsSettings | None = None,
    *,
    store: AccountsStore | None = None,
    audit_store: AuditStore | None = None,
    audit_sink: AuditSink | None = None,
    outbox_publisher: OutboxPublisher | None = None,
) -> FastAPI:
    settings = settings or AccountsSettings()
    if settings.demo_seed and settings.demo_password is None:
        raise ValueError("ACCOUNTS_DEMO_SEED needs ACCOUNTS_DEMO_PASSWORD (the demo users' password)")
    runtime = Runtime.create(settings)
    store = store or AccountsStore(runtime.db)
    audit_store = audit_store or AuditStore(runtime.db)
    keys = SigningKeys(store, settings)
    relay = OutboxRelay(
        store, outbox_publisher or KafkaOutboxPublisher(runtime.broker), poll_s=settings.outbox_poll_s
    )
    ctx = Accounts(
        store=store,
        audit_store=audit_store,
        trail=AuditTrail(
            audit_sink or KafkaAuditSink(runtime.broker, topic=runtime.topics.audit_events),
            service=settings.service_name,
        ),
        notify_outbox=relay.notify,
        break_glass_for=timedelta(minutes=settings.break_glass_minutes),
        topics=runtime.topics,
    )
    matches = ContactMatchStore(runtime.db)
    handlers.register(runtime, audit_store, children=store, matches=matches)

    async def seed_demo() -> None:
        if settings.demo_seed and settings.demo_password is not None:
            await demo.seed(ctx, password=settings.demo_password.get_secret_value())

    app = build_app(
        runtime,
        title="Safeguarding 2.0 — accounts",
        description="Children, practitioners, families, team membership, access decisions and the audit log.",
        routers=[
            api.router(ctx, keys),
            identify_api.router(ctx, matches, handlers.identified_publisher(runtime)),
        ],
        on_start=[
            store.create_indexes,
            audit_store.create_indexes,
            matches.create_indexes,
            keys.load,
            seed_demo,
        ],
        message_schemas={
            runtime.topics.audit_events: Envelope[AuditRecorded],
            runtime.topics.accounts_events: AccountEventEnvelope,
        },
    )
    api.install_error_handlers(app)
    # Accounts verifies its own tokens with its own keys (no HTTP call to itself), unless a council's identity
    # provider is configured, in which case it verifies that provider's tokens like every other service.
    install_verifier(app, verifier_from_settings(settings, local=keys.local))

    # The relay publishes through the broker, so it runs between the broker's start and stop.
    started = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(app_: FastAPI) -> AsyncIterator[None]:
        async with started(app_):
            relay.start()
            try:
                yield
            finally:
                await relay.stop()

    app.router.lifespan_context = lifespan
    app.state.accounts = ctx  # for tests that set up people and teams without going through HTTP
    app.state.signing_keys = keys
    return app
