"""Composition root of the accounts service: everything it consumes, runs and serves is declared here."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI

from accounts import api, auditlog, demo, handlers, identify_api
from accounts.identify import ContactMatchStore
from accounts.outbox import CommitOutbox, ProjectionRefresher
from accounts.service import Accounts
from accounts.settings import AccountsSettings
from accounts.signin import SigningKeys
from accounts.store import AccountsStore, AuditStore
from shared.audit import AuditSink, AuditTrail, KafkaAuditSink
from shared.auth import install_verifier, verifier_from_settings
from shared.contracts.accounts import AccountEventEnvelope
from shared.contracts.audit import AuditRecorded
from shared.contracts.contacts import decode_contact_event
from shared.errors import SHARED_STATUSES
from shared.events import Envelope
from shared.outbox import OutboxRelay, Publish, kafka_publisher
from shared.service import Runtime, service_app


def create_app(
    settings: AccountsSettings | None = None,
    *,
    store: AccountsStore | None = None,
    audit_store: AuditStore | None = None,
    audit_sink: AuditSink | None = None,
    outbox_publish: Publish | None = None,
) -> FastAPI:
    settings = settings or AccountsSettings()
    if settings.demo_seed and settings.demo_password is None:
        raise ValueError("ACCOUNTS_DEMO_SEED needs ACCOUNTS_DEMO_PASSWORD (the demo users' password)")
    runtime = Runtime.create(settings)
    topics = runtime.topics
    store = store or AccountsStore(runtime.db)
    audit_store = audit_store or AuditStore(runtime.db)
    matches = ContactMatchStore(runtime.db)
    keys = SigningKeys(store, settings)
    projections = ProjectionRefresher(store)
    relay = OutboxRelay(
        CommitOutbox(store),
        outbox_publish or kafka_publisher(runtime.broker),
        runtime.outbox_metrics,
        poll_s=settings.outbox_poll_s,
        after_publish=projections.published,
    )
    ctx = Accounts(
        store=store,
        audit_store=audit_store,
        trail=AuditTrail(
            audit_sink or KafkaAuditSink(runtime.broker, topic=topics.audit_events),
            service=settings.service_name,
        ),
        notify_outbox=relay.notify,
        break_glass_for=timedelta(minutes=settings.break_glass_minutes),
        topics=topics,
    )
    publish_identified = handlers.identified_publisher(runtime.broker, topics.identity_events)

    async def seed_demo() -> None:
        if settings.demo_seed and settings.demo_password is not None:
            await demo.seed(ctx, password=settings.demo_password.get_secret_value())

    runtime.on_start(
        store.create_indexes, audit_store.create_indexes, matches.create_indexes, keys.load, seed_demo
    )
    runtime.consume(
        [topics.audit_events, topics.accounts_events],
        decode=auditlog.audit_record_decoder(topics),
        handle=handlers.on_audit_records(audit_store),
        title="accounts: audit and account events into the audit log",
    )
    runtime.consume(
        topics.contacts,
        group="identify",
        decode=decode_contact_event,
        handle=handlers.on_contacts(children=store, matches=matches, publish=publish_identified),
        title="accounts: identify contacts without an NHS number",
    )
    runtime.run_in_background("account commits outbox", relay.run)
    runtime.run_in_background("projection refresh", projections.run)

    app = service_app(
        runtime,
        title="Safeguarding 2.0 — accounts",
        description="Children, practitioners, families, team membership, access decisions and the audit log.",
        routers=[api.router(ctx, keys), identify_api.router(ctx, matches, publish_identified)],
        errors=SHARED_STATUSES,
        message_schemas={
            topics.audit_events: Envelope[AuditRecorded],
            topics.accounts_events: AccountEventEnvelope,
        },
    )
    api.install_error_handlers(app)
    # Accounts verifies its own tokens with its own keys (no HTTP call to itself), unless a council's identity
    # provider is configured, in which case it verifies that provider's tokens like every other service.
    install_verifier(app, verifier_from_settings(settings, local=keys.local))
    app.state.accounts = ctx  # for tests that set up people and teams without going through HTTP
    app.state.signing_keys = keys
    return app
