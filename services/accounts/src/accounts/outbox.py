"""The outbox relay: publishes each commit's events (see `accounts.children.store`), then marks the commit
published.

A change wakes the relay at once; a sweep every `poll_s` also catches what a crash or another replica left.
Commits are published one child at a time in `seq` order and each event waits for the broker's
acknowledgement, so a child's events reach Kafka in order. A crash after publishing and before marking
publishes them again: consumers ignore an event whose `seq` they have applied (at-least-once, as everywhere
here).

Once a child's commits are published and no new one has come for `settle_s`, the relay refreshes the child's
projection, which a crash or two racing writes may have left behind (see `accounts.children.store`). Waiting
for the writes to settle keeps this refresh from being one of the racing writes itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Protocol

from faststream.kafka import KafkaBroker

from accounts.children.store import ChildStore, Commit, OutboxEntry

log = logging.getLogger(__name__)


class OutboxPublisher(Protocol):
    async def publish(self, entry: OutboxEntry) -> None:
        """Publish one saved event and wait for the acknowledgement, or raise."""


class KafkaOutboxPublisher:
    def __init__(self, broker: KafkaBroker) -> None:
        self._broker = broker

    async def publish(self, entry: OutboxEntry) -> None:
        await self._broker.publish(
            entry.payload.encode(),
            topic=entry.topic,
            key=entry.key.encode(),
            headers={"content-type": "application/json", "event-type": entry.type},
            correlation_id=entry.id,
        )


class OutboxRelay:
    def __init__(
        self,
        store: ChildStore,
        publisher: OutboxPublisher,
        *,
        poll_s: float = 1.0,
        batch: int = 100,
        settle_s: float = 0.5,
    ) -> None:
        self._store = store
        self._publisher = publisher
        self._poll_s = poll_s
        self._batch = batch
        self._settle_s = settle_s
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._published_at: dict[str, float] = {}  # child id → when its latest commits were published

    def notify(self) -> None:
        """A change was saved: publish without waiting for the next sweep."""
        self._wake.set()

    async def run_once(self) -> int:
        """Publish everything waiting now; returns how many events were published."""
        published = 0
        while True:
            commits = await self._store.unpublished(limit=self._batch)
            by_child: dict[str, list[Commit]] = {}
            for commit in commits:
                by_child.setdefault(commit.child_id, []).append(commit)
            for child_id, child_commits in by_child.items():
                for commit in child_commits:
                    for entry in commit.events:
                        await self._publisher.publish(entry)
                        published += 1
                await self._store.mark_published([c.id for c in child_commits])
                self._published_at[child_id] = time.monotonic()
            if len(commits) < self._batch:
                return published

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

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="outbox-relay")

    async def stop(self) -> None:
        """Stop after the publish in flight; anything left is published by the next start."""
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        failures = 0
        while True:
            self._wake.clear()
            try:
                await self.run_once()
                await self.refresh_settled()
                failures = 0
            except Exception as err:  # broker or database away: keep the outbox, retry with backoff
                failures += 1
                log.warning("outbox relay failed (attempt %s): %s", failures, err)
                await asyncio.sleep(min(30.0, 0.5 * 2 ** min(failures, 6)))
                continue
            timeout = self._settle_s if self._published_at else self._poll_s
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=timeout)
