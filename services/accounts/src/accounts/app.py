"""Composition root of the accounts service: its stores, consumers, background task and routes.

Consumes (`handlers.register`): `audit.events` + `accounts.events` into the audit log (group `accounts`), and
the agency contact topics to identify contacts without an NHS number (group `accounts.identify`).
Background: the outbox relay, between the broker's start and stop. Routes: one router per domain package.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta

from fastapi import FastAPI

from accounts import demo, handlers
from accounts.audit import routes as audit_routes
from accounts.audit.store import AuditStore
from accounts.children import routes as children_routes
from accounts.children.store import ChildStore
from accounts.context import Accounts
from accounts.errors import install_error_handlers
from accounts.identity import routes as identity_routes
from accounts.identity.store import ContactMatchStore, MatchStore
from accounts.outbox import KafkaOutboxPublisher, OutboxPublisher, OutboxRelay
from accounts.people import routes as people_routes
from accounts.people.keys import SigningKeys
from accounts.people.store import PeopleStore
from accounts.settings import AccountsSettings
from accounts.teams import routes as teams_routes
from shared.audit import AuditSink, AuditTrail, KafkaAuditSink
from shared.auth import install_verifier, verifier_from_settings
from shared.contracts.accounts import AccountEventEnvelope
from shared.contracts.audit import AuditRecorded
from shared.events import Envelope
from shared.service import Runtime, build_app

ROUTERS = (
    people_routes.router,
    children_routes.router,
    teams_routes.router,
    identity_routes.router,
    audit_routes.router,
)


def create_app(
    settings: AccountsSettings | None = None,
    *,
    store: ChildStore | None = None,
    audit_store: AuditStore | None = None,
    audit_sink: AuditSink | None = None,
    outbox_publisher: OutboxPublisher | None = None,
) -> FastAPI:
    """The accounts app; the keyword arguments replace a store, the audit sink or the outbox's publisher."""
    settings = settings or AccountsSettings()
    if settings.demo_seed and settings.demo_password is None:
        raise ValueError("ACCOUNTS_DEMO_SEED needs ACCOUNTS_DEMO_PASSWORD (the demo users' password)")
    runtime = Runtime.create(settings)
    store = store or ChildStore(runtime.db)
    relay = OutboxRelay(
        store, outbox_publisher or KafkaOutboxPublisher(runtime.broker), poll_s=settings.outbox_poll_s
    )
    ctx = _context(
        runtime,
        settings,
        store=store,
        audit_store=audit_store or AuditStore(runtime.db),
        audit_sink=audit_sink or KafkaAuditSink(runtime.broker, topic=runtime.topics.audit_events),
        relay=relay,
    )
    keys = SigningKeys(ctx.people, settings)
    handlers.register(runtime, ctx.audit_store, children=store, matches=ctx.contacts)

    async def seed_demo() -> None:
        if settings.demo_seed and settings.demo_password is not None:
            await demo.seed(ctx, password=settings.demo_password.get_secret_value())

    app = build_app(
        runtime,
        title="Safeguarding 2.0 — accounts",
        description="Children, practitioners, families, team membership, access decisions and the audit log.",
        routers=ROUTERS,
        on_start=[
            store.create_indexes,
            ctx.people.create_indexes,
            ctx.matches.create_indexes,
            ctx.audit_store.create_indexes,
            ctx.contacts.create_indexes,
            keys.load,
            seed_demo,
        ],
        message_schemas={
            runtime.topics.audit_events: Envelope[AuditRecorded],
            runtime.topics.accounts_events: AccountEventEnvelope,
        },
    )
    install_error_handlers(app)
    # Accounts verifies its own tokens with its own keys (no HTTP call to itself), unless a council's identity
    # provider is configured, in which case it verifies that provider's tokens like every other service.
    install_verifier(app, verifier_from_settings(settings, local=keys.local))
    _run_beside_the_broker(app, relay)
    app.state.accounts = ctx  # what the routes' dependencies read (and tests that set up teams directly)
    app.state.signing_keys = keys
    return app


def _context(
    runtime: Runtime,
    settings: AccountsSettings,
    *,
    store: ChildStore,
    audit_store: AuditStore,
    audit_sink: AuditSink,
    relay: OutboxRelay,
) -> Accounts:
    return Accounts(
        store=store,
        people=PeopleStore(runtime.db),
        matches=MatchStore(runtime.db),
        contacts=ContactMatchStore(runtime.db),
        audit_store=audit_store,
        trail=AuditTrail(audit_sink, service=settings.service_name),
        notify_outbox=relay.notify,
        publish_identified=handlers.identified_publisher(runtime),
        break_glass_for=timedelta(minutes=settings.break_glass_minutes),
        topics=runtime.topics,
    )


def _run_beside_the_broker(app: FastAPI, relay: OutboxRelay) -> None:
    """The relay publishes through the broker, so it runs between the broker's start and stop."""
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
