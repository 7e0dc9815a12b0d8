"""Notifications' Kafka handlers: thin; each runs the rules over a batch and hands the alerts to the inboxes.

Which topics and consumer groups feed them is declared in `notifications.app`. A child whose access snapshot
is unknown or stale raises no alert (nobody can be told safely who may see it); redeliveries raise the same
alerts, whose notifications are already stored, so nothing is written twice.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from notifications import rules
from notifications.models import Alert
from notifications.pattern import PatternWatch, Signal
from notifications.service import Inboxes
from notifications.store import NotificationStore
from shared.access import SnapshotStale, SnapshotStore
from shared.contact_feed import ChildContact, ContactHandler
from shared.contracts.accounts import AccountEvent, BreakGlassUsed, JoinRequested
from shared.contracts.audit import AuditRecorded
from shared.contracts.chronology import SignificanceMarked
from shared.events import Envelope
from shared.kafka.consumer import BatchHandler, Incoming
from shared.policy import ChildAccess

log = logging.getLogger(__name__)


async def _access(snapshots: SnapshotStore, child_id: str) -> ChildAccess | None:
    try:
        return await snapshots.get(child_id)
    except SnapshotStale:
        log.warning(
            "no alert about a child whose access snapshot is stale", extra={"fields": {"child_id": child_id}}
        )
        return None


def on_account_events(snapshots: SnapshotStore, inboxes: Inboxes) -> BatchHandler[Envelope[AccountEvent]]:
    async def on_account_events(batch: Sequence[Incoming[Envelope[AccountEvent]]]) -> None:
        """The child's access snapshot first (it is the subscription list), then join requests → approvers
        and break-glass → the lead."""
        await snapshots.on_account_events(batch)
        alerts: list[Alert | None] = []
        for item in batch:
            event = item.event.data
            if not isinstance(event, JoinRequested | BreakGlassUsed):
                continue
            access = await _access(snapshots, event.child_id)
            if access is None:
                continue
            if isinstance(event, JoinRequested):
                alerts.append(rules.join_requested(event, access, event_id=item.event.id))
            else:
                alerts.append(rules.break_glass_used(event, access, event_id=item.event.id))
        await inboxes.deliver([a for a in alerts if a])

    return on_account_events


def on_chronology_events(
    snapshots: SnapshotStore, inboxes: Inboxes
) -> BatchHandler[Envelope[SignificanceMarked]]:
    async def on_chronology_events(batch: Sequence[Incoming[Envelope[SignificanceMarked]]]) -> None:
        """An entry marked significant → the child's team."""
        alerts = []
        for item in batch:
            access = await _access(snapshots, item.event.subject)
            if access is not None:
                alerts.append(rules.significance_marked(item.event.data, access, event_id=item.event.id))
        await inboxes.deliver([a for a in alerts if a])

    return on_chronology_events


def on_contacts(snapshots: SnapshotStore, inboxes: Inboxes, watch: PatternWatch) -> ContactHandler:
    async def on_contacts(contacts: Sequence[ChildContact]) -> None:
        """A significant contact → the team; and, when it is the one that makes three agencies in the
        window, the cross-agency pattern → the lead and the team's managers."""
        alerts: list[Alert | None] = []
        for contact in contacts:
            data = contact.event.data
            if not data.significant or data.supersedes:
                continue
            access = await _access(snapshots, contact.child_id)
            if access is None:
                continue
            alerts.append(rules.significant_contact(contact, access))
            signal = Signal(contact.key, contact.child_id, data.agency, data.occurred_at)
            if await watch.observe(signal):
                alerts.append(
                    rules.cross_agency_pattern(
                        access,
                        event_id=f"pattern:{contact.key}",
                        agencies=watch.agencies,
                        at=data.occurred_at,
                    )
                )
        await inboxes.deliver([a for a in alerts if a])

    return on_contacts


def on_audit_events(
    snapshots: SnapshotStore, inboxes: Inboxes, store: NotificationStore
) -> BatchHandler[Envelope[AuditRecorded]]:
    async def on_audit_events(batch: Sequence[Incoming[Envelope[AuditRecorded]]]) -> None:
        """A child's record opened by someone who never opened it before → the lead."""
        alerts = []
        seen: set[tuple[str, str]] = set()
        for item in batch:
            audit = item.event.data
            if (
                not rules.is_a_view(audit)
                or audit.child_id is None
                or (audit.child_id, audit.actor_id) in seen
            ):
                continue
            seen.add((audit.child_id, audit.actor_id))
            access = await _access(snapshots, audit.child_id)
            if access is None or audit.actor_id == access.lead_id:
                continue
            first = await store.first_view(
                child_id=audit.child_id, person_id=audit.actor_id, event_id=item.event.id
            )
            alerts.append(rules.record_opened(audit, access, event_id=item.event.id, first_view=first))
        await inboxes.deliver([a for a in alerts if a])

    return on_audit_events
