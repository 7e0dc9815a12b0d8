"""Chronology use cases: turn contact events into entries; read a child's chronology as the reader may see it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from chronology.models import (
    HIDDEN_PROVIDER,
    ChronologyEntry,
    ChronologyPage,
    ChronologyQuery,
    Lens,
    entry_document,
)
from chronology.store import ChronologyStore
from shared.contracts.contacts import ContactRecorded
from shared.events import Envelope

MAX_PAGE = 500


class BadCursor(ValueError):
    """The pagination cursor was not one this service issued."""


async def record_contacts(*, store: ChronologyStore, events: Sequence[Envelope[ContactRecorded]]) -> int:
    """Add each agency contact to its child's chronology once; returns how many were new."""
    result = await store.add_entries([entry_document(e) for e in events])
    return result.inserted


async def read_chronology(
    *,
    store: ChronologyStore,
    child_id: str,
    lens: Lens,
    query: ChronologyQuery | None = None,
    limit: int = 100,
    cursor: str | None = None,
) -> ChronologyPage:
    """One page of a child's chronology, oldest first, with corrections and likely duplicates marked."""
    skip = _decode_cursor(cursor) if cursor else 0
    entries, total = await store.page(
        child_id=child_id,
        query=query or ChronologyQuery(),
        family_only=lens.family_view,
        limit=limit,
        skip=skip,
    )
    corrected = await store.corrections_of(
        child_id=child_id, entry_ids=[e.id for e in entries], family_only=lens.family_view
    )
    entries = [_as_seen(e, lens, corrected.get(e.id)) for e in entries]
    _group_duplicates(entries)
    more = skip + len(entries) < total
    return ChronologyPage(
        child_id=child_id,
        total=total,
        entries=entries,
        next_cursor=str(skip + len(entries)) if more and entries else None,
    )


def _as_seen(entry: ChronologyEntry, lens: Lens, superseded_by: str | None) -> ChronologyEntry:
    """The entry as this reader may see it: a sensitive service's identity hidden unless the policy allows."""
    update: dict[str, object] = {"superseded_by": superseded_by}
    if entry.sensitive_service and not lens.see_sensitive_providers:
        update.update(agency=HIDDEN_PROVIDER, author=None, provider_hidden=True)
    return entry.model_copy(update=update)


def _group_duplicates(entries: list[ChronologyEntry]) -> None:
    """Entries from different agencies about the same kind of contact on the same day are likely one event
    recorded twice: they share a `duplicate_group` so the page can show them together. Nothing is merged."""
    groups: dict[tuple[str, str], list[ChronologyEntry]] = defaultdict(list)
    for entry in entries:
        if entry.superseded_by is None:
            groups[(entry.day, entry.contact_type)].append(entry)
    for (day, contact_type), members in groups.items():
        if len({m.agency for m in members}) > 1:
            for m in members:
                m.duplicate_group = f"{day}/{contact_type}"


def _decode_cursor(cursor: str) -> int:
    if not cursor.isdigit() or int(cursor) > 10_000_000:
        raise BadCursor("the cursor is not valid; start again without one")
    return int(cursor)
