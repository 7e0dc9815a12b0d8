"""Accounts' outbox: its commit log (see `accounts.store`), published by the shared relay (`shared.outbox`).

A change wakes the relay at once; a sweep every `poll_s` also catches what a crash or another replica left.
Commits come oldest first per child in `seq` order and each event waits for the broker's acknowledgement, so
a child's events reach Kafka in order. A crash after publishing and before marking publishes them again:
consumers ignore an event whose `seq` they have applied (at-least-once, as everywhere here).

Once a child's commits are published and no new one has come for `settle_s`, `ProjectionRefresher` refreshes
the child's projection, which a crash or two racing writes may have left behind (see `accounts.store`).
Waiting for the writes to settle keeps this refresh from being one of the racing writes itself.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence

from accounts.store import AccountsStore, Commit, UnreadableCommit
from shared.outbox import OutboxMessage, Pending

log = logging.getLogger(__name__)


class CommitOutbox:
    """The commit log as the shared relay's `Outbox`."""

    name = "account_commits"

    def __init__(self, store: AccountsStore) -> None:
        self._store = store

    async def pending(self, *, limit: int) -> list[Pending]:
        return [_pending(c) for c in await self._store.unpublished(limit=limit)]

    async def mark_published(self, entries: Sequence[Pending]) -> None:
        await self._store.mark_published([str(e.id) for e in entries])

    async def set_aside(self, entry: Pending, reason: str) -> None:
        await self._store.set_aside(str(entry.id), reason=reason)


def _pending(commit: Commit | UnreadableCommit) -> Pending:
    if isinstance(commit, UnreadableCommit):
        return Pending(id=commit.id, unreadable=commit.reason, child_id=commit.child_id)
    messages = [
        OutboxMessage(
            topic=entry.topic,
            key=entry.key.encode(),
            value=entry.payload.encode(),
            headers={"content-type": "application/json", "event-type": entry.type},
            correlation_id=entry.id,
        )
        for entry in commit.events
    ]
    return Pending(id=commit.id, messages=messages, child_id=commit.child_id)


class ProjectionRefresher:
    """Refreshes the projections of children whose published writes have settled."""

    def __init__(self, store: AccountsStore, *, settle_s: float = 0.5) -> None:
        self._store = store
        self._settle_s = settle_s
        self._published_at: dict[str, float] = {}  # child id → when its latest commits were published

    async def published(self, entries: Sequence[Pending]) -> None:
        """The relay published these commits (its `after_publish`)."""
        now = time.monotonic()
        for entry in entries:
            if entry.child_id is not None:
                self._published_at[entry.child_id] = now

    async def refresh_settled(self, *, everything: bool = False) -> int:
        """Refresh the projections of children whose writes have settled (`everything`: all published ones);
        returns how many were refreshed."""
        now = time.monotonic()
        due = [c for c, at in self._published_at.items() if everything or now - at >= self._settle_s]
        for child_id in due:
            await self._store.refresh(child_id)
            if self._published_at.get(child_id, 0.0) <= now:
                self._published_at.pop(child_id, None)
        return len(due)

    async def run(self) -> None:
        """Refresh what has settled every `settle_s`, until cancelled; a failure is retried next round."""
        while True:
            try:
                await self.refresh_settled()
            except Exception as err:  # the database is away: the children stay due and are retried
                log.warning("could not refresh projections yet: %s", err)
            await asyncio.sleep(self._settle_s)
