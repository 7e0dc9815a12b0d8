"""The cloud's use cases: keep a batch of documents' keywords and rebuild their children's clouds; read a cloud
and the entries a word came up in, as the reader may see them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from analytics.cloud import models, posts
from analytics.cloud.keywords import Extractor, Keywords, name_words, without_names
from analytics.cloud.models import CloudTerm, CloudView, KeywordCloud, KeywordEntries, KeywordEntry
from analytics.cloud.store import CloudStore, cloud_id
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
    async def kept_keywords(self, ids: Sequence[str]) -> dict[str, mongo.Document]: ...


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


Held = dict[str, dict[str, mongo.Document]]  # child id → that child's kept documents by id


async def record_contacts(
    *,
    store: CloudStore,
    pool: Extractor,
    snapshots: SnapshotStore,
    contacts: Sequence[ChildContact],
    rebuilding: Rebuilding | None = None,
) -> int:
    """Extract each new contact's keywords once, keep them, and rebuild the clouds of the children they are
    about from their kept documents; returns how many documents were new. A correction of another agency's
    event is refused (as the chronology and the graph refuse it), so it can take no one else's words out.

    Live, the batch's children's documents are read once (O(those children's documents)): they say which
    contacts are new and are what the clouds are rebuilt from. A rebuild replays into an empty generation, so
    it reads nothing: the append skips a repeated event, and each child's clouds are built once at the end."""
    if not contacts:
        return 0
    await refuse_foreign_corrections(contacts, store.existing_ids)
    children = {c.child_id for c in contacts}
    held: Held = {} if rebuilding is not None else await _held(store, children)
    firsts: dict[str, ChildContact] = {}
    for contact in contacts:
        firsts.setdefault(contact.key, contact)  # the same event twice in a batch is extracted once
    fresh = [c for c in firsts.values() if c.key not in held.get(c.child_id, {})]
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
    for doc in docs:
        held[doc["child_id"]][doc["_id"]] = doc
    await _save_clouds(store, held, people)
    return added.inserted


async def record_posts(
    *, store: CloudStore, pool: Extractor, snapshots: SnapshotStore, events: Sequence[Envelope[ForumEvent]]
) -> int:
    """Keep the words of each post's latest version (none once redacted) and rebuild the clouds of the
    children the posts are about; returns how many posts' documents were written. A change no newer than the
    one kept (the same event again, or an older one replayed) writes no document; the clouds are rebuilt
    all the same, so a batch redelivered after its documents were written but before its clouds were still
    ends with the clouds right (a rebuild from the same documents writes the same clouds)."""
    changes = posts.latest_changes(events)
    if not changes:
        return 0
    held = await _held(store, {c.child_id for c in changes})
    newer = [c for c in changes if c.version > int(held[c.child_id].get(c.key, {}).get("version", 0))]
    wordy = [c for c in newer if not c.redacted]
    found = await pool.extract([c.body for c in wordy]) if wordy else []
    extracted = dict(zip([c.key for c in wordy], found, strict=True))
    people = await _people(snapshots, set(held))
    docs = {}
    for change in newer:
        names = people[change.child_id] | name_words([change.event.by.name])
        terms = without_names(extracted.get(change.key, []), names)
        docs[change.key] = posts.post_document(change, terms)
    if docs:
        await store.put_documents(docs)
    for key, doc in docs.items():
        held[doc["child_id"]][key] = {"_id": key, **doc}
    await _save_clouds(store, held, people)
    return len(docs)


async def _held(store: CloudStore, child_ids: set[str]) -> Held:
    held: Held = {child: {} for child in child_ids}
    for doc in await store.documents_of(sorted(child_ids)):
        held[doc["child_id"]][doc["_id"]] = doc
    return held


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
    kept = await rebuilding.previous.kept_keywords([c.key for c in fresh]) if rebuilding and fresh else {}
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
    """Build the clouds of every child a rebuild's replay touched, a few hundred children a query."""
    children = sorted(rebuilding.children)
    for start in range(0, len(children), 200):
        await rebuild_clouds(store=store, snapshots=snapshots, child_ids=set(children[start : start + 200]))
    rebuilding.children.clear()


async def rebuild_clouds(*, store: CloudStore, snapshots: SnapshotStore, child_ids: set[str]) -> None:
    """Each child's two clouds from its kept documents: O(that child's documents), nothing extracted again."""
    await _save_clouds(store, await _held(store, child_ids), await _people(snapshots, child_ids))


async def _save_clouds(store: CloudStore, held: Held, people: dict[str, frozenset[str]]) -> None:
    clouds: dict[str, dict[str, Any]] = {}
    for child_id in sorted(held):
        docs = models.current(list(held[child_id].values()))
        for view in ("full", "family"):
            shown = models.visible(docs, view)
            terms = models.cloud_terms(shown, people[child_id])
            clouds[cloud_id(child_id, view)] = {
                "child_id": child_id,
                "view": view,
                "documents": len(shown),
                # Objects, not pairs: FerretDB 1.24 cannot store an array inside an array.
                "terms": [{"term": term, "documents": n} for term, n in terms],
            }
    await store.save_clouds(clouds)


async def keyword_cloud(
    *, store: CloudStore, access: ChildAccess | None, child_id: str, view: CloudView
) -> KeywordCloud:
    """The child's cloud for this view. Names the account learned after a document was kept are left out here
    too, so a person who joins the team later never appears in the cloud by name."""
    doc = await store.cloud(child_id, view)
    names = people_of(access)
    kept = [] if doc is None else [(t["term"], t["documents"]) for t in doc["terms"]]
    terms = [(t, n) for t, n in kept if not names.intersection(t.split())]
    return KeywordCloud(
        child_id=child_id,
        view=view,
        documents=0 if doc is None else int(doc["documents"]),
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
