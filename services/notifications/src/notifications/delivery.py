"""Delivery checks access again (issue 13, item 5): a notification reaches its person only if the policy lets
them see the child now — someone who left the team gets nothing more — and a restricted one never reaches a
family view. Every channel (the inbox, the live stream, email, the digest) asks here before it shows anything.

The in-process hub tells the live streams of this process at once what was just written; streams also poll
the inbox, for what other replicas wrote (`notifications.stream`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

from shared import mongo
from shared.access import SnapshotStale, SnapshotStore
from shared.policy import Principal


def recipient_principal(doc: mongo.Document) -> Principal:
    """The recipient as the policy sees them, for channels with no token (email, the digest)."""
    who = doc.get("recipient", {})
    return Principal(
        subject=doc["person_id"],
        name=doc["person_id"],
        kind=who.get("kind", "practitioner"),
        agency=who.get("agency"),
        role=who.get("role"),
    )


class Access:
    """Whether a person may see a notification now, from this service's own access snapshots."""

    def __init__(self, snapshots: SnapshotStore) -> None:
        self._snapshots = snapshots

    async def visible(
        self, principal: Principal, docs: Sequence[mongo.Document], *, now: datetime | None = None
    ) -> list[mongo.Document]:
        """Those of `docs` (all the principal's own) the principal may see now; a stale snapshot hides them."""
        now = now or datetime.now(UTC)
        own = [d for d in docs if d["person_id"] == principal.subject]
        keys = {_check(d) for d in own}
        answers = await asyncio.gather(*(self._may_see(principal, *key, now=now) for key in keys))
        verdicts = dict(zip(keys, answers, strict=True))
        return [d for d in own if verdicts[_check(d)]]

    async def viewable(
        self, principal: Principal, child_ids: Sequence[str], *, now: datetime | None = None
    ) -> list[str]:
        """Those of `child_ids` whose header the principal may see now, in order."""
        now = now or datetime.now(UTC)
        answers = await asyncio.gather(
            *(self._may_see(principal, c, "view_header", False, now=now) for c in child_ids)
        )
        return [c for c, yes in zip(child_ids, answers, strict=True) if yes]

    async def _may_see(
        self, principal: Principal, child_id: str, action: str, restricted: bool, *, now: datetime
    ) -> bool:
        try:
            decision = await self._snapshots.decide(principal, action, child_id, now=now)  # type: ignore[arg-type]
        except SnapshotStale:
            return False  # fail closed: the copy of who may see the child missed a change
        return decision.allowed and not (restricted and decision.view != "full")


def _check(doc: mongo.Document) -> tuple[str, str, bool]:
    """What deciding about a notification depends on: its child, the action it needs, whether restricted."""
    return doc["child_id"], doc.get("action", "view_header"), bool(doc.get("restricted", True))


class Hub:
    """Fan-out of freshly written notifications to this process's live streams, by person."""

    def __init__(self) -> None:
        self._queues: dict[str, set[asyncio.Queue[mongo.Document]]] = {}

    @contextlib.contextmanager
    def subscribe(self, person_id: str) -> Iterator[asyncio.Queue[mongo.Document]]:
        queue: asyncio.Queue[mongo.Document] = asyncio.Queue(maxsize=1000)
        self._queues.setdefault(person_id, set()).add(queue)
        try:
            yield queue
        finally:
            queues = self._queues.get(person_id, set())
            queues.discard(queue)
            if not queues:
                self._queues.pop(person_id, None)

    def publish(self, docs: Sequence[mongo.Document]) -> None:
        for doc in docs:
            for queue in self._queues.get(doc["person_id"], ()):
                # A stream that stopped reading misses the push, not the notification: it catches up from
                # the inbox on its next poll.
                with contextlib.suppress(asyncio.QueueFull):
                    queue.put_nowait(doc)

    def listeners(self, person_id: str) -> int:
        return len(self._queues.get(person_id, ()))
