"""The cloud's use cases: keep a batch of documents' keywords and rebuild their children's clouds; read a cloud
and the entries a word came up in, as the reader may see them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from analytics.cloud import models, posts
from analytics.cloud.keywords import Extractor, name_words, without_names
from analytics.cloud.models import CloudTerm, CloudView, KeywordCloud, KeywordEntries, KeywordEntry
from analytics.cloud.store import CloudStore, cloud_id
from shared.access import SnapshotStore
from shared.contact_feed import ChildContact, refuse_foreign_corrections
from shared.contracts.forum import ForumEvent
from shared.events import Envelope
from shared.policy import HIDDEN_PROVIDER, ChildAccess


def people_of(access: ChildAccess | None) -> frozenset[str]:
    """The words of the names the child's account knows: the child, the team, the family."""
    if access is None:
        return frozenset()
    names = [access.display_name, *(m.name for m in access.members), *(f.name for f in access.family)]
    return name_words(names)


async def record_contacts(
    *, store: CloudStore, pool: Extractor, snapshots: SnapshotStore, contacts: Sequence[ChildContact]
) -> int:
    """Extract each new contact's keywords once, keep them, and rebuild the clouds of the children they are
    about; returns how many documents were new. A correction of another agency's event is refused (as the
    chronology and the graph refuse it), so it can take no one else's words out."""
    if not contacts:
        return 0
    await refuse_foreign_corrections(contacts, store.existing_ids)
    known = await store.existing_ids([c.key for c in contacts])
    fresh = [c for c in contacts if c.key not in known]
    extracted = await pool.extract([models.document_text(c) for c in fresh])
    people = {child: people_of(await snapshots.get(child)) for child in {c.child_id for c in fresh}}
    docs = []
    for contact, keywords in zip(fresh, extracted, strict=True):
        names = people[contact.child_id] | name_words(models.contact_names(contact))
        docs.append(models.keyword_document(contact, without_names(keywords, names)))
    added = await store.add_documents(docs)
    await rebuild_clouds(store=store, snapshots=snapshots, child_ids={c.child_id for c in contacts})
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
    kept = await store.post_versions([c.key for c in changes])
    newer = [c for c in changes if c.version > kept.get(c.key, 0)]
    wordy = [c for c in newer if not c.redacted]
    found = await pool.extract([c.body for c in wordy]) if wordy else []
    extracted = dict(zip([c.key for c in wordy], found, strict=True))
    people = {child: people_of(await snapshots.get(child)) for child in {c.child_id for c in newer}}
    docs = {}
    for change in newer:
        names = people[change.child_id] | name_words([change.event.by.name])
        terms = without_names(extracted.get(change.key, []), names)
        docs[change.key] = posts.post_document(change, terms)
    if docs:
        await store.put_documents(docs)
    await rebuild_clouds(store=store, snapshots=snapshots, child_ids={c.child_id for c in changes})
    return len(docs)


async def rebuild_clouds(*, store: CloudStore, snapshots: SnapshotStore, child_ids: set[str]) -> None:
    """Each child's two clouds from its kept documents: O(that child's documents), nothing extracted again."""
    clouds: dict[str, dict[str, Any]] = {}
    by_child: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for doc in await store.documents_of(sorted(child_ids)):
        by_child[doc["child_id"]].append(doc)
    for child_id in sorted(child_ids):
        docs = models.current(by_child[child_id])
        names = people_of(await snapshots.get(child_id))
        for view in ("full", "family"):
            shown = models.visible(docs, view)
            terms = models.cloud_terms(shown, names)
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
