"""The cloud's documents and what is served: terms with the number of the child's documents they come up in."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from analytics.cloud.keywords import EXTRACTION, Keywords
from shared.contact_feed import ChildContact

CloudView = Literal["full", "family"]
TERMS_KEPT = 80  # a cloud shows a few dozen words; more is noise


def document_text(contact: ChildContact) -> str:
    data = contact.event.data
    return "\n".join(part for part in (data.summary, data.action_taken, data.outcome) if part)


def contact_names(contact: ChildContact) -> list[str | None]:
    """The names a contact itself carries: the child's and its author's."""
    data = contact.event.data
    return [data.child.given_name, data.child.family_name, data.author.name]


def text_digest(text: str) -> str:
    """What a document's keywords were extracted from, and how: an equal digest means equal keywords, which is
    what lets a rebuild reuse them instead of running YAKE again."""
    return hashlib.sha256(f"{EXTRACTION}\n{text}".encode()).hexdigest()


def keyword_document(
    contact: ChildContact, keywords: Keywords, *, text_sha: str | None = None
) -> dict[str, Any]:
    """One document's kept keywords, keyed as the chronology keys the entry (`<agency>:<event id>`), with the
    digest of the text they were extracted from."""
    data = contact.event.data
    return {
        "_id": contact.key,
        "text_sha": text_sha or text_digest(document_text(contact)),
        "child_id": contact.child_id,
        "agency": data.agency,
        "occurred_at": data.occurred_at,
        "visibility": data.visibility,
        "sensitive_service": data.sensitive_service,
        "supersedes": contact.supersedes_key,
        "terms": [term for term, _ in keywords],
        "scores": [score for _, score in keywords],
    }


class CloudTerm(BaseModel):
    term: str
    documents: int = Field(description="How many of the child's current documents it comes up in.")


class KeywordCloud(BaseModel):
    child_id: str
    view: CloudView
    documents: int = Field(description="Documents the cloud is built from (corrected ones not counted).")
    terms: list[CloudTerm] = Field(description="Most frequent first.")


class KeywordEntry(BaseModel):
    entry_id: str = Field(description="The chronology entry's id, or the forum post's document id.")
    kind: Literal["contact", "post"] = Field(default="contact", description="An agency contact or a post.")
    thread_id: str | None = Field(default=None, description="A post's forum thread.")
    post_id: str | None = Field(default=None, description="A post's id in the forum.")
    occurred_at: datetime
    agency: str = Field(description='The contact\'s agency; "forum" for a post.')


class KeywordEntries(BaseModel):
    child_id: str
    term: str
    entries: list[KeywordEntry] = Field(
        description="Newest first: the entries and posts the word came up in."
    )


def current(docs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The documents still in force: a corrected document gives way to its correction, whichever came first;
    a redacted post is no document at all."""
    corrected = {d["supersedes"] for d in docs if d.get("supersedes")}
    return [d for d in docs if d["_id"] not in corrected and not d.get("redacted")]


def visible(docs: Iterable[dict[str, Any]], view: CloudView) -> list[dict[str, Any]]:
    return [d for d in docs if view == "full" or d.get("visibility") == "family_visible"]


@dataclass(frozen=True)
class Kept:
    """What a child's clouds need of one kept document: enough to rank its words and to take them out again."""

    family: bool  # family-visible: counted in the family cloud too
    supersedes: str | None
    version: int  # a post's version (`posts`); 0 for a contact, which never changes
    redacted: bool
    terms: tuple[str, ...]
    scores: tuple[float, ...]

    def fields(self) -> list[Any]:  # not `dataclasses.astuple`, which deep-copies every term
        return [self.family, self.supersedes, self.version, self.redacted, self.terms, self.scores]

    @classmethod
    def of(cls, doc: Mapping[str, Any]) -> Kept:
        return cls(
            family=doc.get("visibility") == "family_visible",
            supersedes=doc.get("supersedes"),
            version=int(doc.get("version", 0)),
            redacted=bool(doc.get("redacted")),
            terms=tuple(doc["terms"]),
            scores=tuple(doc["scores"]),
        )


@dataclass(frozen=True)
class CloudState:
    """A child's kept documents as its clouds count them, at a revision: the clouds are saved only over the
    revision they were built from, so two writers of one child's clouds never lose each other's documents."""

    entries: Mapping[str, Kept] = field(default_factory=dict)
    revision: int = 0

    def news(self, changes: Mapping[str, Kept]) -> dict[str, Kept]:
        """The changes this state does not hold yet: a new document, or a newer version of a post."""
        return {
            key: kept
            for key, kept in changes.items()
            if key not in self.entries or kept.version > self.entries[key].version
        }

    def with_changes(self, news: Mapping[str, Kept]) -> CloudState:
        return CloudState({**self.entries, **news}, self.revision)

    @property
    def text(self) -> str:
        # One string, keys sorted (so a rebuild's equals the live one): FerretDB 1.24 stores a string far
        # faster than the same words as arrays (100 writes: 0.11 s against 0.25 s, measured here).
        raw = {key: kept.fields() for key, kept in self.entries.items()}
        return json.dumps(raw, sort_keys=True, separators=(",", ":"))

    @classmethod
    def decode(cls, text: str, revision: int) -> CloudState:
        entries = {
            key: Kept(bool(family), supersedes, int(version), bool(redacted), tuple(terms), tuple(scores))
            for key, (family, supersedes, version, redacted, terms, scores) in json.loads(text).items()
        }
        return cls(entries, revision)


def cloud_of(
    entries: Mapping[str, Kept], view: CloudView, names: frozenset[str]
) -> tuple[int, list[tuple[str, int]]]:
    """(documents, ranked terms) of one of a child's clouds: the documents still in force (a corrected one
    gives way to its correction, a redacted post counts for nothing) that this view shows."""
    corrected = {k.supersedes for k in entries.values() if k.supersedes}
    shown = [
        k
        for key, k in entries.items()
        if key not in corrected and not k.redacted and (view == "full" or k.family)
    ]
    return len(shown), cloud_terms(((k.terms, k.scores) for k in shown), names)


def cloud_terms(
    docs: Iterable[tuple[Sequence[str], Sequence[float]]], names: frozenset[str]
) -> list[tuple[str, int]]:
    """(term, documents) for the most frequent terms, ties broken by the best YAKE score, then the term."""
    counts: dict[str, int] = defaultdict(int)
    best: dict[str, float] = {}
    for terms, scores in docs:
        for term, score in zip(terms, scores, strict=True):
            if names.intersection(term.split()):
                continue
            counts[term] += 1
            best[term] = min(score, best.get(term, score))
    ranked = sorted(counts, key=lambda t: (-counts[t], best[t], t))
    return [(term, counts[term]) for term in ranked[:TERMS_KEPT]]
