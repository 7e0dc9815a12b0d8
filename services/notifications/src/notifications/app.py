"""Composition root of the notifications service: everything it consumes, runs and serves is declared here."""

from __future__ import annotations

from fastapi import FastAPI

from notifications import api, errors, handlers
from notifications.delivery import Access, Hub
from notifications.deps import Notifications
from notifications.mail import Clock, Digest, EmailSender, Mailer, SmtpMailer
from notifications.pattern import PatternWatch
from notifications.service import Inboxes
from notifications.settings import NotificationsSettings
from notifications.store import MongoNotificationStore, NotificationStore
from notifications.stream import LiveStream
from shared.access import SnapshotStore
from shared.audit import AuditSink
from shared.contact_feed import ContactFeed
from shared.contracts.accounts import decode_account_event
from shared.contracts.audit import decode_audit_event
from shared.contracts.chronology import decode_chronology_event
from shared.contracts.contacts import decode_contact_event
from shared.contracts.forum import decode_forum_event
from shared.contracts.identity import decode_identity_event
from shared.events import utc_now
from shared.guard import local_guard, rebalance_listener
from shared.service import Runtime, service_app


def create_app(
    settings: NotificationsSettings | None = None,
    *,
    store: NotificationStore | None = None,
    snapshots: SnapshotStore | None = None,
    audit_sink: AuditSink | None = None,
    mailer: Mailer | None = None,
    clock: Clock = utc_now,
) -> FastAPI:
    settings = settings or NotificationsSettings()
    runtime = Runtime.create(settings)
    topics = runtime.topics
    if store is None:
        store = MongoNotificationStore(runtime.db, preferences_ttl_s=settings.preferences_cache_s)
    # The guard's snapshots (rebuilt from accounts.events when one missed a change, kept in memory in front
    # of the store: shared.access_cache); notifications audit nothing themselves: they carry no case
    # content, and the page they link to audits the read.
    snapshots = local_guard(runtime, snapshots=snapshots, audit_sink=audit_sink).snapshots
    hub = Hub()
    access = Access(snapshots)
    inboxes = Inboxes(store, hub, web_base_url=settings.web_base_url)
    watch = PatternWatch(store, agencies=settings.pattern_agencies, window_days=settings.pattern_window_days)
    teams = handlers.Teams(snapshots, wait_s=settings.snapshot_wait_s)
    feed = ContactFeed(handlers.on_contacts(teams, inboxes, watch))

    runtime.on_start(store.create_indexes, snapshots.create_indexes)
    runtime.consume(
        [topics.accounts_events],
        group="access",
        decode=decode_account_event,
        handle=handlers.on_account_events(snapshots, teams, inboxes),
        on_dead_letter=snapshots.on_dead_letter,
        title="notifications: account events into the access snapshot, then join requests and break-glass",
        listener=rebalance_listener(snapshots),
    )
    runtime.consume(
        topics.contacts,
        decode=decode_contact_event,
        handle=feed.on_agency_contacts,
        title="notifications: significant contacts and the cross-agency pattern",
    )
    runtime.consume(
        [topics.identity_events],
        group="identified",
        decode=decode_identity_event,
        handle=feed.on_identified_contacts,
        title="notifications: identified contacts",
    )
    runtime.consume(
        [topics.chronology_events],
        group="chronology",
        decode=decode_chronology_event,
        handle=handlers.on_chronology_events(teams, inboxes),
        title="notifications: entries marked significant",
    )
    runtime.consume(
        [topics.forum_events],
        group="forum",
        decode=decode_forum_event,
        handle=handlers.on_forum_events(teams, inboxes, watch),
        title="notifications: worries and mentions in the forum, and worries toward the cross-agency pattern",
    )
    runtime.consume(
        [topics.audit_events],
        group="views",
        decode=decode_audit_event,
        handle=handlers.on_audit_events(teams, inboxes, store),
        title="notifications: a child's record opened by someone new",
    )
    if mailer is not None or settings.smtp_host:
        sender = EmailSender(store, access, mailer or SmtpMailer(settings), settings, clock=clock)
        runtime.run_in_background("email", sender.run)
        runtime.run_in_background("digest", Digest(store, access, settings, clock=clock).run)

    app = service_app(
        runtime,
        title="Safeguarding 2.0 — notifications",
        description="Practitioners' inboxes, live streams, delivery state and preferences.",
        routers=[api.router],
        errors=errors.STATUSES,
        streams=frozenset({"/notifications/stream"}),
    )
    app.state.notifications = Notifications(
        store=store,
        access=access,
        stream=LiveStream(store, access, hub, poll_s=settings.stream_poll_s, max_s=settings.stream_max_s),
        ping_s=settings.stream_ping_s,
    )
    app.state.inboxes = inboxes
    return app
