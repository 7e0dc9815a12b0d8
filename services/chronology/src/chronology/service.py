"""Chronology use cases: turn contact events into entries; read a child's chronology as the reader may see it."""

from __future__ import annotations

import asyncio
import hashlib
from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from chronology.forum_entries import forum_entry_document, redacted_summary, redactions
from chronology.models import (
    HIDDEN_PROVIDER,
    ChronologyEntry,
    ChronologyPage,
    ChronologyQuery,
    Lens,
    account_entry_document,
    entry_document,
)
from chronology.store import ChronologyStore
from shared.contact_feed import ChildContact, refuse_foreign_corrections
from shared.contracts.accounts import AccountEvent
from shared.contracts.chronology import SIGNIFICANCE_MARKED, SignificanceMarked
from shared.contracts.forum import ForumEvent
from shared.events import Envelope, make_event
from shared.outbox import outbox_fields
from shared.policy import Principal
from shared.topics import Topics

MAX_PAGE = 500


class EntryNotFound(LookupError):
    """No such entry in this child's chronology."""


class BadCursor(ValueError):
    """The pagination cursor was not one this service issued."""


async def record_contacts(*, store: ChronologyStore, contacts: Sequence[ChildContact]) -> int:
    """Add each agency contact to its child's chronology once; returns how many were new. A correction of
    another agency's event is refused (`ForeignCorrection`: the consumer dead-letters it)."""
    await refuse_foreign_corrections(contacts, store.existing_ids)
    result = await store.add_entries([entry_document(c.event, child_id=c.child_id) for c in contacts])
    return result.inserted


async def record_account_changes(*, store: ChronologyStore, events: Sequence[Envelope[AccountEvent]]) -> int:
    """Team and status changes to the child's account become timeline entries, once each."""
    docs = [d for d in (account_entry_document(e) for e in events) if d is not None]
    return (await store.add_entries(docs)).inserted


async def record_forum_changes(*, store: ChronologyStore, events: Sequence[Envelope[ForumEvent]]) -> int:
    """Worries, pinned danger statements and safety goals, and safety scales become entries, once each; a
    redaction takes the post's words out of every entry made from it. In event order: a post and its
    redaction in one batch end redacted."""
    docs = [d for d in (forum_entry_document(e) for e in events) if d is not None]
    added = (await store.add_entries(docs)).inserted
    for redaction in redactions(list(events)):
        await store.redact_forum_post(
            child_id=redaction.child_id, post_id=redaction.post_id, summary=redacted_summary(redaction.reason)
        )
    return added


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
    query = query or ChronologyQuery()
    if query.agencies and not lens.see_sensitive_providers:
        query = query.model_copy(update={"hide_sensitive_agencies": True})
    read = _read_whole if query == ChronologyQuery() else _read_matching
    found = await read(store, child_id, query, lens, limit=limit, skip=skip)
    entries = [
        _as_seen(e, lens, found.corrected.get(e.id), found.marks.get(e.id), found.shown)
        for e in found.entries
    ]
    _group_duplicates(entries)
    more = skip + len(entries) < found.total
    return ChronologyPage(
        child_id=child_id,
        total=found.total,
        entries=entries,
        next_cursor=str(skip + len(entries)) if more and entries else None,
    )


@dataclass(frozen=True)
class _Found:
    """A page's entries as stored, and what is needed to show them as the reader may see them."""

    entries: list[ChronologyEntry]
    total: int
    corrected: dict[str, str]  # entry id → the entry correcting it
    marks: dict[str, bool]  # entry id → the lead's latest significance mark
    shown: Collection[str] | None  # for the family, which of the corrected entries they may see


async def _read_whole(
    store: ChronologyStore, child_id: str, query: ChronologyQuery, lens: Lens, *, limit: int, skip: int
) -> _Found:
    """The unfiltered read (the child's page, the exports): one read of the child's entries, and beside it one
    of the lead's marks (a few per child)."""
    timeline, marks = await asyncio.gather(
        store.timeline(child_id=child_id, family_only=lens.family_view), store.significance(child_id=child_id)
    )
    entries = timeline.page(skip=skip, limit=limit)
    ids = [e.id for e in entries]
    shown = timeline.holding(e.supersedes for e in entries if e.supersedes) if lens.family_view else None
    return _Found(entries, len(timeline), timeline.corrections_of(ids), marks, shown)


async def _read_matching(
    store: ChronologyStore, child_id: str, query: ChronologyQuery, lens: Lens, *, limit: int, skip: int
) -> _Found:
    """A filtered read: the filters are the database's, so the page is queried, then what it needs beside."""
    entries = await store.page(
        child_id=child_id, query=query, family_only=lens.family_view, limit=limit, skip=skip
    )
    ids = [e.id for e in entries]
    total, corrected, marks, shown = await asyncio.gather(
        _total(store, child_id, query, lens, entries, limit=limit, skip=skip),
        store.corrections_of(child_id=child_id, entry_ids=ids, family_only=lens.family_view),
        store.significance(child_id=child_id, entry_ids=ids),
        _corrected_entries_shown(store, child_id, entries, lens),
    )
    return _Found(entries, total, corrected, marks, shown)


async def _total(
    store: ChronologyStore,
    child_id: str,
    query: ChronologyQuery,
    lens: Lens,
    entries: Sequence[ChronologyEntry],
    *,
    limit: int,
    skip: int,
) -> int:
    """How many entries match: a first page that is not full holds them all; otherwise counted, beside the
    page's other lookups rather than after them."""
    if skip == 0 and len(entries) < limit:
        return len(entries)
    return await store.count(child_id=child_id, query=query, family_only=lens.family_view)


async def _corrected_entries_shown(
    store: ChronologyStore, child_id: str, entries: Sequence[ChronologyEntry], lens: Lens
) -> Collection[str] | None:
    """For the family, which of the entries these correct they may see (None: the reader sees them all)."""
    if not lens.family_view:
        return None
    targets = [e.supersedes for e in entries if e.supersedes is not None]
    return await store.family_visible_ids(child_id=child_id, ids=targets) if targets else set()


def _as_seen(
    entry: ChronologyEntry,
    lens: Lens,
    superseded_by: str | None,
    marked: bool | None,
    shown: Collection[str] | None = None,
) -> ChronologyEntry:
    """The entry as this reader may see it: the lead's significance mark over the agency's flag; for the
    family, no RAG rating (the page hides it) and no pointer to an entry they may not see; a sensitive
    service's identity hidden unless the policy allows, down to its agency in the entry ids; for a shielded
    child, no author to those who may not see where the child is."""
    update: dict[str, object] = {"superseded_by": superseded_by}
    if marked is not None:
        update.update(significant=marked, significance_marked=True)
    if lens.family_view:
        update["rag"] = None
        if entry.supersedes is not None and (shown is None or entry.supersedes not in shown):
            update["supersedes"] = None
    if entry.sensitive_service and not lens.see_sensitive_providers:
        update.update(author=None, provider_hidden=True)
        if entry.kind == "contact":
            # `<agency>:<event id>` names the agency: the reader gets ids that link up but name nothing.
            hide = _opaque_id(entry.child_id)
            update.update(
                agency=HIDDEN_PROVIDER,
                id=hide(entry.id),
                supersedes=hide(update.get("supersedes", entry.supersedes)),
                superseded_by=hide(superseded_by),
            )
    if not lens.see_location and update.get("author", entry.author) is not None:
        update.update(author=None, author_withheld=True)
    return entry.model_copy(update=update)


def _opaque_id(child_id: str) -> Callable[[object], str | None]:
    def hide(entry_id: object) -> str | None:
        if not isinstance(entry_id, str):
            return None
        digest = hashlib.sha256(f"{child_id}/{entry_id}".encode()).hexdigest()[:24]
        return f"hidden-{digest}"

    return hide


async def read_entry(
    *, store: ChronologyStore, child_id: str, entry_id: str, lens: Lens
) -> ChronologyEntry | None:
    """One entry as this reader may see it (None if it is not theirs to see)."""
    entry = await store.entry(child_id=child_id, entry_id=entry_id)
    if entry is None or (lens.family_view and entry.visibility != "family_visible"):
        return None
    marks = await store.significance(child_id=child_id, entry_ids=[entry_id])
    corrected = await store.corrections_of(
        child_id=child_id, entry_ids=[entry_id], family_only=lens.family_view
    )
    shown = await _corrected_entries_shown(store, child_id, [entry], lens)
    return _as_seen(entry, lens, corrected.get(entry_id), marks.get(entry_id), shown)


async def mark_significance(
    *,
    store: ChronologyStore,
    topics: Topics,
    child_id: str,
    entry_id: str,
    significant: bool,
    reason: str,
    by: Principal,
) -> SignificanceMarked:
    """The lead marks an entry significant (or not); the mark and its event are stored in one write."""
    if await store.entry(child_id=child_id, entry_id=entry_id) is None:
        raise EntryNotFound(f"there is no entry {entry_id} in this child's chronology")
    mark = SignificanceMarked(
        entry_id=entry_id,
        significant=significant,
        reason=reason,
        by_person_id=by.subject,
        by_name=by.name,
        at=datetime.now(UTC),
    )
    event = make_event(type=SIGNIFICANCE_MARKED, source="chronology", subject=child_id, data=mark)
    await store.add_mark(
        {
            "_id": event.id,
            "child_id": child_id,
            **mark.model_dump(),
            **outbox_fields(topics.chronology_events, event),
        }
    )
    return mark


def _group_duplicates(entries: list[ChronologyEntry]) -> None:
    """Entries from different agencies about the same kind of contact on the same day are likely one event
    recorded twice: they share a `duplicate_group` so the page can show them together. Nothing is merged.
    Only agencies' contacts: the record's own changes and the forum's entries are not another agency's copy."""
    groups: dict[tuple[str, str], list[ChronologyEntry]] = defaultdict(list)
    for entry in entries:
        if entry.superseded_by is None and entry.kind == "contact":
            groups[(entry.day, entry.contact_type)].append(entry)
    for (day, contact_type), members in groups.items():
        if len({m.agency for m in members}) > 1:
            for m in members:
                m.duplicate_group = f"{day}/{contact_type}"


def _decode_cursor(cursor: str) -> int:
    if not cursor.isdigit() or int(cursor) > 10_000_000:
        raise BadCursor("the cursor is not valid; start again without one")
    return int(cursor)
