"""Composition root of the accounts service: everything it consumes, runs and serves is declared here."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from pymongo.asynchronous.database import AsyncDatabase

from accounts import errors, handlers
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
from accounts.people.sessions import SessionStore
from accounts.people.store import PEOPLE, PeopleStore
from accounts.people.throttle import Throttle
from accounts.settings import AccountsSettings
from accounts.teams import routes as teams_routes
from shared import mongo
from shared.audit import AuditSink, AuditTrail, KafkaAuditSink
from shared.auth import install_verifier, verifier_from_settings
from shared.contracts.contacts import decode_contact_event
from shared.kafka.consumer import Gather
from shared.outbox import DocumentOutbox, OutboxRelay, Publish, kafka_publisher
from shared.service import Runtime, service_app
from shared.topics import Topics

ROUTERS = (
    people_routes.router,
    children_routes.router,
    teams_routes.router,
    identity_routes.router,
    audit_routes.router,
)
# A fetch answers once it holds this much, or after the gather wait: a few hundred audit records.
AUDIT_GATHER_BYTES = 256 * 1024


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
    runtime = Runtime.create(settings)
    topics = runtime.topics
    store = store or ChildStore(runtime.db)
    relay, projections = _commit_relay(runtime, settings, store, outbox_publish)

    def notify_outbox() -> None:
        for each in (relay, resolutions, *person_relays):
            each.notify()

    ctx = accounts_context(
        settings,
        db=runtime.db,
        broker=runtime.broker,
        store=store,
        audit_store=audit_store,
        audit_sink=audit_sink,
        notify_outbox=notify_outbox,
    )
    # A contact's resolution and its event are one document, published by a relay of their own.
    resolutions = OutboxRelay(
        ResolutionOutbox(ctx.contacts),
        outbox_publish or kafka_publisher(runtime.broker),
        runtime.outbox_metrics,
        poll_s=settings.outbox_poll_s,
    )
    # Sign-outs and accounts disabled or enabled: each event is stored in the document it is about.
    person_relays = [
        OutboxRelay(
            outbox,
            outbox_publish or kafka_publisher(runtime.broker),
            runtime.outbox_metrics,
            poll_s=settings.outbox_poll_s,
        )
        for outbox in (ctx.sessions.outbox, DocumentOutbox(runtime.db[PEOPLE]))
    ]
    keys = SigningKeys(ctx.people, settings)
    stores = (store, ctx.people, ctx.matches, ctx.audit_store, ctx.contacts, ctx.sessions)
    runtime.on_start(*(s.create_indexes for s in stores), keys.load)
    runtime.consume(
        [topics.audit_events, topics.accounts_events],
        decode=audit_record_decoder(topics),
        handle=handlers.on_audit_records(ctx.audit_store, ctx.people),
        title="accounts: audit and account events into the audit log",
        gather=Gather(min_bytes=AUDIT_GATHER_BYTES, max_wait_ms=settings.audit_gather_ms)
        if settings.audit_gather_ms
        else None,
    )
    runtime.consume(
        topics.contacts,
        group="identify",
        decode=decode_contact_event,
        handle=handlers.on_contacts(children=store, matches=ctx.contacts, publish=ctx.publish_identified),
        title="accounts: identify contacts without an NHS number",
    )
    runtime.run_in_background("account commits outbox", relay.run)
    runtime.run_in_background("contact resolutions outbox", resolutions.run)
    runtime.run_in_background("sign-out outbox", person_relays[0].run)
    runtime.run_in_background("account status outbox", person_relays[1].run)
    runtime.run_in_background("projection refresh", projections.run)

    app = service_app(
        runtime,
        title="Safeguarding 2.0 — accounts",
        description="Children, practitioners, families, team membership, access decisions and the audit log.",
        routers=ROUTERS,
        errors=errors.STATUSES,
        publishes=[topics.accounts_events, topics.audit_events, topics.identity_events],
    )
    # Accounts verifies its own tokens with its own keys (no HTTP call to itself), unless a council's identity
    # provider is configured, in which case it verifies that provider's tokens like every other service.
    install_verifier(
        app, verifier_from_settings(settings, local=keys.local, revocations=app.state.revocations)
    )
    app.state.accounts = ctx  # what the routes' dependencies read (and tests that set up teams directly)
    app.state.signing_keys = keys
    app.state.throttle = Throttle(settings)
    app.state.trusted_proxies = frozenset(a.strip() for a in settings.trusted_proxies.split(",") if a.strip())
    return app


def _commit_relay(
    runtime: Runtime, settings: AccountsSettings, store: ChildStore, publish: Publish | None
) -> tuple[OutboxRelay, ProjectionRefresher]:
    """The relay that publishes the commit log, and the refresher it tells what it published."""
    projections = ProjectionRefresher(store)
    relay = OutboxRelay(
        CommitOutbox(store),
        publish or kafka_publisher(runtime.broker),
        runtime.outbox_metrics,
        poll_s=settings.outbox_poll_s,
        after_publish=projections.published,
    )
    return relay, projections


def accounts_context(
    settings: AccountsSettings,
    *,
    db: AsyncDatabase[mongo.Document],
    broker: KafkaBroker,
    store: ChildStore | None = None,
    audit_store: AuditStore | None = None,
    audit_sink: AuditSink | None = None,
    notify_outbox: Callable[[], None] | None = None,
) -> Accounts:
    """What the use cases are handed, on accounts' database and a started broker (audit events go to Kafka
    unless `audit_sink` says otherwise).

    `create_app` builds it for the routes and handlers. A tool that changes accounts through the use cases
    beside a running accounts service builds it too: without `notify_outbox`, what it commits is published by
    that service's outbox relay at its next sweep (`outbox_poll_s`)."""
    topics = Topics(settings.topic_prefix)
    return Accounts(
        store=store or ChildStore(db),
        people=PeopleStore(db),
        matches=MatchStore(db),
        contacts=ContactMatchStore(db),
        audit_store=audit_store or AuditStore(db),
        trail=AuditTrail(
            audit_sink or KafkaAuditSink(broker, topic=topics.audit_events), service=settings.service_name
        ),
        notify_outbox=notify_outbox or _nothing,
        publish_identified=handlers.identified_publisher(broker, topics.identity_events),
        break_glass_for=timedelta(minutes=settings.break_glass_minutes),
        sessions=SessionStore(db),
        session_lasts=timedelta(hours=settings.session_hours),
        topics=topics,
    )


def _nothing() -> None:
    """No relay runs in this process to wake; the service's own relay sweeps."""
