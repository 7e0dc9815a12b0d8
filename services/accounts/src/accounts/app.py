"""Composition root of the accounts service: everything it consumes, runs and serves is declared here."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from fastapi import FastAPI

from accounts import demo, errors, handlers
from accounts.audit import routes as audit_routes
from accounts.audit.models import audit_record_decoder
from accounts.audit.store import AuditStore
from accounts.children import routes as children_routes
from accounts.children.store import ChildStore
from accounts.context import Accounts
from accounts.identity import routes as identity_routes
from accounts.identity.outbox import ResolutionOutbox
from accounts.identity.store import ContactMatchStore, MatchStore
from accounts.outbox import CommitOutbox, ProjectionRefresher
from accounts.people import routes as people_routes
from accounts.people.keys import SigningKeys
from accounts.people.store import PeopleStore
from accounts.settings import AccountsSettings
from accounts.teams import routes as teams_routes
from shared.audit import AuditSink, AuditTrail, KafkaAuditSink
from shared.auth import install_verifier, verifier_from_settings
from shared.contracts.accounts import AccountEventEnvelope
from shared.contracts.audit import AuditRecorded
from shared.contracts.contacts import decode_contact_event
from shared.events import Envelope
from shared.outbox import OutboxRelay, Publish, kafka_publisher
from shared.service import Runtime, service_app

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
    outbox_publish: Publish | None = None,
) -> FastAPI:
    """The accounts app; the keyword arguments replace a store, the audit sink or the outbox's publisher."""
    settings = settings or AccountsSettings()
    if settings.demo_seed and settings.demo_password is None:
        raise ValueError("ACCOUNTS_DEMO_SEED needs ACCOUNTS_DEMO_PASSWORD (the demo users' password)")
    runtime = Runtime.create(settings)
    topics = runtime.topics
    store = store or ChildStore(runtime.db)
    projections = ProjectionRefresher(store)
    relay = OutboxRelay(
        CommitOutbox(store),
        outbox_publish or kafka_publisher(runtime.broker),
        runtime.outbox_metrics,
        poll_s=settings.outbox_poll_s,
        after_publish=projections.published,
    )
    resolutions = ContactMatchStore(runtime.db)
    resolutions_relay = OutboxRelay(
        ResolutionOutbox(resolutions),
        outbox_publish or kafka_publisher(runtime.broker),
        runtime.outbox_metrics,
        poll_s=settings.outbox_poll_s,
    )

    def notify_outbox() -> None:
        relay.notify()
        resolutions_relay.notify()

    ctx = _context(
        runtime,
        settings,
        store=store,
        audit_store=audit_store or AuditStore(runtime.db),
        audit_sink=audit_sink or KafkaAuditSink(runtime.broker, topic=topics.audit_events),
        contacts=resolutions,
        notify_outbox=notify_outbox,
    )
    keys = SigningKeys(ctx.people, settings)

    async def seed_demo() -> None:
        if settings.demo_seed and settings.demo_password is not None:
            await demo.seed(ctx, password=settings.demo_password.get_secret_value())

    runtime.on_start(
        store.create_indexes,
        ctx.people.create_indexes,
        ctx.matches.create_indexes,
        ctx.audit_store.create_indexes,
        ctx.contacts.create_indexes,
        keys.load,
        seed_demo,
    )
    runtime.consume(
        [topics.audit_events, topics.accounts_events],
        decode=audit_record_decoder(topics),
        handle=handlers.on_audit_records(ctx.audit_store),
        title="accounts: audit and account events into the audit log",
    )
    runtime.consume(
        topics.contacts,
        group="identify",
        decode=decode_contact_event,
        handle=handlers.on_contacts(children=store, matches=ctx.contacts, publish=ctx.publish_identified),
        title="accounts: identify contacts without an NHS number",
    )
    runtime.run_in_background("account commits outbox", relay.run)
    runtime.run_in_background("contact resolutions outbox", resolutions_relay.run)
    runtime.run_in_background("projection refresh", projections.run)

    app = service_app(
        runtime,
        title="Safeguarding 2.0 — accounts",
        description="Children, practitioners, families, team membership, access decisions and the audit log.",
        routers=ROUTERS,
        errors=errors.STATUSES,
        message_schemas={
            topics.audit_events: Envelope[AuditRecorded],
            topics.accounts_events: AccountEventEnvelope,
        },
    )
    # Accounts verifies its own tokens with its own keys (no HTTP call to itself), unless a council's identity
    # provider is configured, in which case it verifies that provider's tokens like every other service.
    install_verifier(app, verifier_from_settings(settings, local=keys.local))
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
    contacts: ContactMatchStore,
    notify_outbox: Callable[[], None],
) -> Accounts:
    return Accounts(
        store=store,
        people=PeopleStore(runtime.db),
        matches=MatchStore(runtime.db),
        contacts=contacts,
        audit_store=audit_store,
        trail=AuditTrail(audit_sink, service=settings.service_name),
        notify_outbox=notify_outbox,
        publish_identified=handlers.identified_publisher(runtime.broker, runtime.topics.identity_events),
        break_glass_for=timedelta(minutes=settings.break_glass_minutes),
        topics=runtime.topics,
    )
