"""In-memory stand-ins for the storage every service shares, for unit tests: no server, same outcomes.

Each keeps the semantics of the MongoDB code it replaces (`shared.mongo.append_many`, `shared.access`,
`shared.outbox.DocumentOutbox`), so a service tested against them behaves as it does against FerretDB.
"""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from datetime import UTC, datetime
from typing import Any

from aiokafka import ConsumerRecord
from pydantic import ValidationError

from shared.access import AccessGap, SnapshotStale, fold
from shared.contracts.accounts import AccountEvent
from shared.events import Envelope
from shared.kafka.consumer import Incoming
from shared.mongo import AppendResult, Document
from shared.outbox import OutboxMessage, Pending
from shared.policy import Action, ChildAccess, Decision, Principal, decide


def stored_form(value: Any) -> Any:
    """A deep copy of `value` as it comes back from the server: BSON dates are UTC, to the millisecond."""
    if isinstance(value, datetime):
        utc = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
        return utc.replace(microsecond=utc.microsecond // 1000 * 1000)
    if isinstance(value, dict):
        return {k: stored_form(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [stored_form(v) for v in value]
    return value


def append_by_id(stored: MutableMapping[Any, Document], docs: Sequence[Document]) -> AppendResult:
    """`shared.mongo.append_many` on a dict keyed by `_id`: a document whose `_id` is stored already (or came
    earlier in the same batch) is a duplicate and is left out; the rest are stored in their stored form."""
    result = AppendResult()
    for doc in docs:
        if doc["_id"] in stored:
            result.duplicate_ids.append(doc["_id"])
            continue
        stored[doc["_id"]] = stored_form(doc)
        result.inserted += 1
    return result


class MemoryAccessSnapshots:
    """`shared.access.AccessSnapshots` in memory: the same fold of account events, the same policy."""

    def __init__(self) -> None:
        self.children: dict[str, ChildAccess] = {}
        self.stale: dict[str, str] = {}  # child id → why it is refused until rebuilt

    async def create_indexes(self) -> None:
        pass

    async def get(self, child_id: str) -> ChildAccess | None:
        if child_id in self.stale:
            raise SnapshotStale(self.stale[child_id])
        return self.children.get(child_id)

    async def children_of(self, person_id: str, *, limit: int = 500) -> list[ChildAccess]:
        return [a for a in self.children.values() if person_id in a.people()][:limit]

    async def decide(
        self, principal: Principal, action: Action, child_id: str, *, now: datetime | None = None
    ) -> Decision:
        return decide(principal, action, await self.get(child_id), now=now or datetime.now(UTC))

    async def on_dead_letter(self, record: ConsumerRecord[Any, Any], reason: str) -> None:
        if isinstance(record.key, bytes):
            self.stale[record.key.decode()] = reason

    async def on_account_events(self, batch: Sequence[Incoming[Envelope[AccountEvent]]]) -> None:
        await self.apply([i.event.data for i in batch])

    async def apply(self, events: Sequence[AccountEvent]) -> int:
        by_child: dict[str, list[AccountEvent]] = {}
        for event in events:
            by_child.setdefault(event.child_id, []).append(event)
        changed = 0
        for child_id, child_events in by_child.items():
            before = self.children.get(child_id)
            try:
                after = fold(before, child_events)
            except AccessGap as gap:  # no history to rebuild from in memory: refused from now on
                self.stale[child_id] = str(gap)
                continue
            if after is not None and after != before:
                self.children[child_id] = after
                changed += 1
        return changed


class MemoryOutbox:
    """`shared.outbox.DocumentOutbox` over a list of documents written with `outbox_fields`."""

    def __init__(self, docs: list[Document], *, name: str = "outbox") -> None:
        self.docs = docs
        self.name = name

    async def pending(self, *, limit: int) -> list[Pending]:
        waiting = sorted((d for d in self.docs if d.get("pending") is True), key=lambda d: d["written_at"])
        return [_pending(d) for d in waiting[:limit]]

    async def mark_published(self, entries: Sequence[Pending]) -> None:
        self._update({e.id for e in entries}, pending=False)

    async def set_aside(self, entry: Pending, reason: str) -> None:
        self._update({entry.id}, pending=False, outbox_set_aside=reason)

    def _update(self, ids: set[Any], **fields: Any) -> None:
        for doc in self.docs:
            if doc["_id"] in ids:
                doc.update(fields)


def _pending(doc: Document) -> Pending:
    try:
        event = Envelope[Any].model_validate_json(doc["outbox_event"])
        message = OutboxMessage.of(doc["outbox_topic"], event)
    except (KeyError, TypeError, ValidationError) as err:
        return Pending(id=doc["_id"], unreadable=f"unreadable outbox entry: {type(err).__name__}: {err}")
    return Pending(id=doc["_id"], messages=[message], child_id=event.subject)
