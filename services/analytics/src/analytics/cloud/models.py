"""The cloud's documents and what is served: terms with the number of the child's documents they come up in."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
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


def cloud_terms(docs: Iterable[dict[str, Any]], names: frozenset[str]) -> list[tuple[str, int]]:
    """(term, documents) for the most frequent terms, ties broken by the best YAKE score, then the term."""
    counts: dict[str, int] = defaultdict(int)
    best: dict[str, float] = {}
    for doc in docs:
        for term, score in zip(doc["terms"], doc["scores"], strict=True):
            if names.intersection(term.split()):
                continue
            counts[term] += 1
            best[term] = min(score, best.get(term, score))
    ranked = sorted(counts, key=lambda t: (-counts[t], best[t], t))
    return [(term, counts[term]) for term in ranked[:TERMS_KEPT]]
