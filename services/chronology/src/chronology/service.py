"""Chronology use cases: turn contact events into entries; read a child's chronology."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from datetime import datetime

from shared.contracts.contacts import ContactRecorded
from shared.events import Envelope

from chronology.models import ChronologyEntry, ChronologyPage, entry_document
from chronology.store import ChronologyStore


class BadCursor(ValueError):
    """The pagination cursor was not one this service issued."""


async def record_contacts(*, store: ChronologyStore, events: Sequence[Envelope[ContactRecorded]]) -> int:
    """Add each agency contact to its child's chronology once; returns how many were new."""
    result = await store.add_entries([entry_document(e) for e in events])
    return result.inserted


async def read_chronology(
    *, store: ChronologyStore, child_id: str, limit: int, cursor: str | None = None
) -> ChronologyPage:
    """One page of a child's chronology, oldest first."""
    after = _decode_cursor(cursor) if cursor else None
    entries = await store.page(child_id=child_id, limit=limit + 1, after=after)
    more = len(entries) > limit
    entries = entries[:limit]
    next_cursor = _encode_cursor(entries[-1]) if more and entries else None
    total = await store.count(child_id=child_id)
    return ChronologyPage(child_id=child_id, total=total, entries=entries, next_cursor=next_cursor)


def _encode_cursor(entry: ChronologyEntry) -> str:
    raw = json.dumps([entry.occurred_at.isoformat(), entry.id]).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        at, last_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return datetime.fromisoformat(at), str(last_id)
    except (ValueError, TypeError) as err:
        raise BadCursor("the cursor is not valid; start again without one") from err
