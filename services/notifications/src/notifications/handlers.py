"""Notifications' Kafka handlers: thin; each runs the rules over a batch and hands the alerts to the inboxes.

Which topics and consumer groups feed them is declared in `notifications.app`. A child whose access snapshot
is unknown or stale raises no alert (nobody can be told safely who may see it); redeliveries raise the same
alerts, whose notifications are already stored, so nothing is written twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

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
from shared.contracts.forum import ForumEvent, MemberMentioned, PostAdded
from shared.events import Envelope
from shared.kafka.consumer import BatchHandler, Incoming
from shared.policy import ChildAccess

log = logging.getLogger(__name__)


class Teams:
    """The children's access snapshots as the rules need them.

    The snapshots are kept by another consumer (of `accounts.events`), so an event about a child registered a
    moment ago can arrive first; a recent event waits a little (`wait_s`, once per batch) for its child's
    snapshot. A child still unknown then has no account, and nobody to tell; a stale one is refused."""

    def __init__(self, snapshots: SnapshotStore, *, wait_s: float = 3.0, recent_s: float = 120.0) -> None:
        self._snapshots = snapshots
        self._wait_s = wait_s
        self._recent = timedelta(seconds=recent_s)

    async def of(self, events: Sequence[tuple[str, datetime]]) -> dict[str, ChildAccess]:
        """The access of each child named in `events` (child id, when the event was recorded) that is known."""
        found: dict[str, ChildAccess] = {}
        now = datetime.now(UTC)
        latest: dict[str, datetime] = {}
        for child_id, at in events:
            latest[child_id] = max(at, latest.get(child_id, at))
        # Concurrently: each lookup is a round trip, and FerretDB serves each on a connection of its own.
        looked = await asyncio.gather(*(self._get(child_id) for child_id in latest))
        waiting: set[str] = set()
        for (child_id, at), access in zip(latest.items(), looked, strict=True):
            if access is not None:
                found[child_id] = access
            elif now - at < self._recent:
                waiting.add(child_id)
        deadline = time.monotonic() + self._wait_s
        while waiting and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            for child_id in list(waiting):
                access = await self._get(child_id)
                if access is not None:
                    found[child_id] = access
                    waiting.discard(child_id)
        return found

    async def _get(self, child_id: str) -> ChildAccess | None:
        try:
            return await self._snapshots.get(child_id)
        except SnapshotStale:
            log.warning(
                "no alert about a child whose access snapshot is stale",
                extra={"fields": {"child_id": child_id}},
            )
            return None


def on_account_events(
    snapshots: SnapshotStore, teams: Teams, inboxes: Inboxes
) -> BatchHandler[Envelope[AccountEvent]]:
    async def on_account_events(batch: Sequence[Incoming[Envelope[AccountEvent]]]) -> None:
        """The child's access snapshot first (it is the subscription list), then join requests → approvers
        and break-glass → the lead."""
        await snapshots.on_account_events(batch)
        alerts: list[Alert | None] = []
        wanted = [i for i in batch if isinstance(i.event.data, JoinRequested | BreakGlassUsed)]
        known = await teams.of([(i.event.subject, i.event.time) for i in wanted])
        for item in wanted:
            event = item.event.data
            access = known.get(event.child_id)
            if access is None:
                continue
            if isinstance(event, JoinRequested):
                alerts.append(rules.join_requested(event, access, event_id=item.event.id))
            elif isinstance(event, BreakGlassUsed):
                alerts.append(rules.break_glass_used(event, access, event_id=item.event.id))
        await inboxes.deliver([a for a in alerts if a])

    return on_account_events


def on_chronology_events(teams: Teams, inboxes: Inboxes) -> BatchHandler[Envelope[SignificanceMarked]]:
    async def on_chronology_events(batch: Sequence[Incoming[Envelope[SignificanceMarked]]]) -> None:
        """An entry marked significant → the child's team."""
        alerts = []
        known = await teams.of([(i.event.subject, i.event.time) for i in batch if i.event.data.significant])
        for item in batch:
            access = known.get(item.event.subject)
            if access is not None:
                alerts.append(rules.significance_marked(item.event.data, access, event_id=item.event.id))
        await inboxes.deliver([a for a in alerts if a])

    return on_chronology_events


def on_contacts(teams: Teams, inboxes: Inboxes, watch: PatternWatch) -> ContactHandler:
    async def on_contacts(contacts: Sequence[ChildContact]) -> None:
        """A significant contact → the team; and, when it is the one that makes three agencies in the
        window, the cross-agency pattern → the lead and the team's managers."""
        alerts: list[Alert | None] = []
        significant = [c for c in contacts if c.event.data.significant and not c.event.data.supersedes]
        known = await teams.of([(c.child_id, c.event.time) for c in significant])
        signals: list[Signal] = []
        for contact in significant:
            data = contact.event.data
            access = known.get(contact.child_id)
            if access is None:
                continue
            alerts.append(rules.significant_contact(contact, access))
            signals.append(Signal(contact.key, contact.child_id, data.agency, data.occurred_at))
        alerts += await _patterns(watch, signals, known)
        await inboxes.deliver([a for a in alerts if a])

    return on_contacts


async def _patterns(
    watch: PatternWatch, signals: list[Signal], known: dict[str, ChildAccess]
) -> list[Alert | None]:
    """The cross-agency pattern → the lead and the team's managers, for each signal that completed it."""
    return [
        rules.cross_agency_pattern(
            known[signal.child_id], event_id=f"pattern:{signal.key}", agencies=watch.agencies, at=signal.at
        )
        for signal in await watch.observe(signals)
    ]


def on_forum_events(
    teams: Teams, inboxes: Inboxes, watch: PatternWatch
) -> BatchHandler[Envelope[ForumEvent]]:
    async def on_forum_events(batch: Sequence[Incoming[Envelope[ForumEvent]]]) -> None:
        """A worry → the team (and, from a practitioner, a signal of the cross-agency pattern for their
        agency); a mention → the person mentioned. Other forum events tell nobody."""
        wanted = [
            i
            for i in batch
            if isinstance(i.event.data, MemberMentioned)
            or (isinstance(i.event.data, PostAdded) and i.event.data.tag == "worry")
        ]
        known = await teams.of([(i.event.subject, i.event.time) for i in wanted])
        alerts: list[Alert | None] = []
        signals: list[Signal] = []
        for item in wanted:
            event, access = item.event.data, known.get(item.event.subject)
            if access is None:
                continue
            if isinstance(event, MemberMentioned):
                alerts.append(rules.forum_mention(event, access, event_id=item.event.id))
            elif isinstance(event, PostAdded):
                alerts.append(rules.forum_worry(event, access, event_id=item.event.id))
                agency = rules.worry_signal_agency(event)
                if agency is not None:
                    signals.append(Signal(f"forum:{event.post_id}", access.child_id, agency, event.at))
        alerts += await _patterns(watch, signals, known)
        await inboxes.deliver([a for a in alerts if a])

    return on_forum_events


def on_audit_events(
    teams: Teams, inboxes: Inboxes, store: NotificationStore
) -> BatchHandler[Envelope[AuditRecorded]]:
    async def on_audit_events(batch: Sequence[Incoming[Envelope[AuditRecorded]]]) -> None:
        """A child's record opened by someone who never opened it before → the lead."""
        alerts = []
        seen: set[tuple[str, str]] = set()
        views = [i for i in batch if rules.is_a_view(i.event.data)]
        known = await teams.of([(i.event.subject, i.event.time) for i in views])
        for item in views:
            audit = item.event.data
            if audit.child_id is None or (audit.child_id, audit.actor_id) in seen:
                continue
            seen.add((audit.child_id, audit.actor_id))
            access = known.get(audit.child_id)
            if access is None or audit.actor_id == access.lead_id:
                continue
            first = await store.first_view(
                child_id=audit.child_id, person_id=audit.actor_id, event_id=item.event.id
            )
            alerts.append(rules.record_opened(audit, access, event_id=item.event.id, first_view=first))
        await inboxes.deliver([a for a in alerts if a])

    return on_audit_events
