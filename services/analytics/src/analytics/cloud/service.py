"""The cloud's use cases: keep a batch of documents' keywords and count them into their children's clouds; read
a cloud and the entries a word came up in, as the reader may see them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from analytics.cloud import models, posts
from analytics.cloud.keywords import Extractor, Keywords, name_words, without_names
from analytics.cloud.models import (
    CloudState,
    CloudTerm,
    CloudView,
    KeywordCloud,
    KeywordEntries,
    KeywordEntry,
)
from analytics.cloud.store import Cloud, CloudStore
from shared import mongo
from shared.access import SnapshotStore
from shared.contact_feed import ChildContact, refuse_foreign_corrections
from shared.contracts.forum import ForumEvent
from shared.events import Envelope
from shared.policy import HIDDEN_PROVIDER, ChildAccess

SAMPLES = 400


def people_of(access: ChildAccess | None) -> frozenset[str]:
    """The words of the names the child's account knows: the child, the team, the family."""
    if access is None:
        return frozenset()
    names = [access.display_name, *(m.name for m in access.members), *(f.name for f in access.family)]
    return name_words(names)


class KeptKeywords(Protocol):
    async def kept_documents(self, ids: Sequence[str]) -> dict[str, mongo.Document]: ...


@dataclass
class Rebuilding:
    """What a rebuild of the cloud (`analytics.readmodels`) adds to the live handler: the served generation's
    kept keywords, reused wherever a document's text (and the way it is extracted) is unchanged, since YAKE
    is the ceiling otherwise; and each child's clouds built once, when a replay ends (`finish_rebuild`),
    instead of after every batch of its contacts."""

    previous: KeptKeywords
    children: set[str] = field(default_factory=set)
    reused: int = 0
    extracted: int = 0
    extract_seconds: float = 0.0
    samples: list[str] = field(default_factory=list)  # texts to measure YAKE's own rate on (`yake_ceiling`)


CONFLICT_RETRIES = 8  # another writer saved one of the child's clouds first: read it again and re-apply


async def record_contacts(
    *,
    store: CloudStore,
    pool: Extractor,
    snapshots: SnapshotStore,
    contacts: Sequence[ChildContact],
    rebuilding: Rebuilding | None = None,
) -> int:
    """Extract each new contact's keywords once, keep them, and count them into the clouds of the children
    they are about; returns how many documents were new. A correction of another agency's event is refused
    (as the chronology and the graph refuse it), so it can take no one else's words out.

    Live, a batch reads one state per child (`models.CloudState`), O(the batch's children), never their
    documents. A rebuild replays into an empty generation, so it reads nothing: the append skips a repeated
    event, and each child's clouds are counted once at the end."""
    if not contacts:
        return 0
    await refuse_foreign_corrections(contacts, store.existing_ids)
    children = {c.child_id for c in contacts}
    states = {} if rebuilding is not None else await store.states(sorted(children))
    firsts: dict[str, ChildContact] = {}
    for contact in contacts:
        firsts.setdefault(contact.key, contact)  # the same event twice in a batch is extracted once
    fresh = [c for c in firsts.values() if c.key not in states.get(c.child_id, CloudState()).entries]
    texts = [models.document_text(c) for c in fresh]
    digests = [models.text_digest(t) for t in texts]
    extracted = await _keywords(pool, fresh, texts, digests, rebuilding)
    people = await _people(snapshots, children)
    docs = []
    for contact, keywords, digest in zip(fresh, extracted, digests, strict=True):
        names = people[contact.child_id] | name_words(models.contact_names(contact))
        docs.append(models.keyword_document(contact, without_names(keywords, names), text_sha=digest))
    added = await store.add_documents(docs)
    if rebuilding is not None:
        rebuilding.children.update(children)
        return added.inserted
    kept = {d["_id"]: d for d in docs}
    if added.duplicate_ids:  # kept by a delivery that failed before its clouds: count what it kept
        kept |= await store.kept_documents(added.duplicate_ids)
    changes: dict[str, dict[str, models.Kept]] = {child: {} for child in children}
    for doc in docs:
        stored = kept[doc["_id"]]
        if stored["child_id"] == doc["child_id"]:  # an id another child's document already has is not its
            changes[doc["child_id"]][doc["_id"]] = models.Kept.of(stored)
    await _count(store, states, changes, people)
    return added.inserted


async def record_posts(
    *, store: CloudStore, pool: Extractor, snapshots: SnapshotStore, events: Sequence[Envelope[ForumEvent]]
) -> int:
    """Keep the words of each post's latest version (none once redacted) and count them into the clouds of
    the children the posts are about; returns how many posts' documents were written. A change no newer than
    the one the child's clouds counted (the same event again, or an older one replayed) writes nothing; a
    batch redelivered after its documents were written but before its clouds writes them again, the same."""
    changes = posts.latest_changes(events)
    if not changes:
        return 0
    states = await store.states(sorted({c.child_id for c in changes}))
    newer = [c for c in changes if c.version > _version(states[c.child_id], c.key)]
    wordy = [c for c in newer if not c.redacted]
    found = await pool.extract([c.body for c in wordy]) if wordy else []
    extracted = dict(zip([c.key for c in wordy], found, strict=True))
    people = await _people(snapshots, {c.child_id for c in newer})
    docs = {}
    for change in newer:
        names = people[change.child_id] | name_words([change.event.by.name])
        terms = without_names(extracted.get(change.key, []), names)
        docs[change.key] = posts.post_document(change, terms)
    if not docs:
        return 0
    await store.put_documents(docs)
    counted: dict[str, dict[str, models.Kept]] = {child: {} for child in people}
    for key, doc in docs.items():
        counted[doc["child_id"]][key] = models.Kept.of(doc)
    await _count(store, states, counted, people)
    return len(docs)


def _version(state: CloudState, key: str) -> int:
    kept = state.entries.get(key)
    return -1 if kept is None else kept.version


async def _count(
    store: CloudStore,
    states: dict[str, CloudState],
    changes: dict[str, dict[str, models.Kept]],
    people: dict[str, frozenset[str]],
) -> None:
    """Save each child's clouds with these changes counted in, over the state they were read at; a child
    another writer saved meanwhile is read again and the changes applied to what it saved (those it already
    holds drop out)."""
    gate = asyncio.Semaphore(mongo.LOOKUPS)

    async def one(child: str) -> None:
        state = states[child]
        for _ in range(CONFLICT_RETRIES):
            news = state.news(changes[child])
            if not news:
                return
            counted = state.with_changes(news)
            async with gate:
                if await store.save_clouds(child, counted, _clouds(counted, people[child])):
                    return
                state = (await store.states([child]))[child]
        raise ConflictError(f"the keyword clouds of {child} kept changing under {CONFLICT_RETRIES} tries")

    await asyncio.gather(*(one(child) for child in sorted(changes)))


class ConflictError(RuntimeError):
    """Writers kept saving one child's clouds first; the batch is retried (a transient fault)."""


def _clouds(state: CloudState, names: frozenset[str]) -> dict[models.CloudView, Cloud]:
    return {view: models.cloud_of(state.entries, view, names) for view in ("full", "family")}


async def _people(snapshots: SnapshotStore, child_ids: set[str]) -> dict[str, frozenset[str]]:
    """Each child's name words, a few snapshots read at a time."""
    gate = asyncio.Semaphore(mongo.LOOKUPS)

    async def of(child_id: str) -> tuple[str, frozenset[str]]:
        async with gate:
            return child_id, people_of(await snapshots.get(child_id))

    return dict(await asyncio.gather(*(of(child) for child in sorted(child_ids))))


async def _keywords(
    pool: Extractor,
    fresh: Sequence[ChildContact],
    texts: Sequence[str],
    digests: Sequence[str],
    rebuilding: Rebuilding | None,
) -> list[Keywords]:
    """Each fresh document's keywords: the kept ones where a rebuild has them for the same digest, else YAKE's."""
    kept = await rebuilding.previous.kept_documents([c.key for c in fresh]) if rebuilding and fresh else {}
    out: list[Keywords | None] = [None] * len(fresh)
    for i, (contact, digest) in enumerate(zip(fresh, digests, strict=True)):
        doc = kept.get(contact.key)
        if doc is not None and doc.get("text_sha") == digest:
            out[i] = list(zip(doc["terms"], doc["scores"], strict=True))
    todo = [i for i, k in enumerate(out) if k is None]
    started = time.perf_counter()
    if todo:
        for i, keywords in zip(todo, await pool.extract([texts[i] for i in todo]), strict=True):
            out[i] = keywords
    if rebuilding is not None:
        rebuilding.samples.extend(texts[: max(0, SAMPLES - len(rebuilding.samples))])
        rebuilding.reused += len(fresh) - len(todo)
        rebuilding.extracted += len(todo)
        rebuilding.extract_seconds += time.perf_counter() - started if todo else 0.0
    return [k or [] for k in out]


async def yake_ceiling(pool: Extractor, texts: Sequence[str], workers: int) -> float:
    """Documents/s YAKE manages on these texts through `pool`, every worker busy (started before timing)."""
    if not texts:
        return 0.0
    await asyncio.gather(*(pool.extract(texts[:1]) for _ in range(workers)))
    chunks = [list(texts[i::workers]) for i in range(workers)]
    started = time.perf_counter()
    await asyncio.gather(*(pool.extract(chunk) for chunk in chunks if chunk))
    return len(texts) / (time.perf_counter() - started)


async def finish_rebuild(*, store: CloudStore, snapshots: SnapshotStore, rebuilding: Rebuilding) -> None:
    """Count the clouds of every child a rebuild's replay touched, from their kept documents, a few hundred
    children at a time."""
    children = sorted(rebuilding.children)
    for start in range(0, len(children), 200):
        chunk = set(children[start : start + 200])
        changes: dict[str, dict[str, models.Kept]] = {child: {} for child in chunk}
        for doc in await store.documents_of(sorted(chunk)):
            changes[doc["child_id"]][doc["_id"]] = models.Kept.of(doc)
        states = await store.states(sorted(chunk))
        await _count(store, states, changes, await _people(snapshots, chunk))
    rebuilding.children.clear()


async def keyword_cloud(
    *, store: CloudStore, access: ChildAccess | None, child_id: str, view: CloudView
) -> KeywordCloud:
    """The child's cloud for this view. Names the account learned after a document was kept are left out here
    too, so a person who joins the team later never appears in the cloud by name."""
    documents, kept = await store.cloud(child_id, view) or (0, [])
    names = people_of(access)
    terms = [(t, n) for t, n in kept if not names.intersection(t.split())]
    return KeywordCloud(
        child_id=child_id,
        view=view,
        documents=documents,
        terms=[CloudTerm(term=t, documents=n) for t, n in terms],
    )


async def entries_with(
    *, store: CloudStore, child_id: str, term: str, view: CloudView, see_sensitive_providers: bool
) -> KeywordEntries:
    """The entries and forum posts `term` came up in, newest first, as far as this view shows them (the
    family's: family-visible entries and family-audience posts); a sensitive service's entries carry no agency
    for a reader who may not know it."""
    term = " ".join(term.lower().split())
    docs = models.visible(models.current(await store.documents_of([child_id])), view)
    found = sorted((d for d in docs if term in d["terms"]), key=lambda d: d["occurred_at"], reverse=True)
    return KeywordEntries(
        child_id=child_id,
        term=term,
        entries=[
            KeywordEntry(
                entry_id=d["_id"],
                kind=d.get("kind", "contact"),
                thread_id=d.get("thread_id"),
                post_id=d.get("post_id"),
                occurred_at=d["occurred_at"],
                agency=HIDDEN_PROVIDER
                if d.get("sensitive_service") and not see_sensitive_providers
                else d["agency"],
            )
            for d in found
        ],
    )
