"""The keyword cloud on the child's page: the words, sized by how many entries they come up in, and, once one
is chosen, the entries it came from, each a link to its day in the chronology. Both are fetched as the page's
sections (`web.sections`)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from shared.charts.cloud import size_step
from web.clients import BackendError
from web.models import KeywordCloud, KeywordEntries


@dataclass(frozen=True)
class Word:
    term: str
    documents: int
    size: int  # 1..shared.charts.cloud.SIZES: cloud-1 (smallest) to cloud-5
    href: str


@dataclass(frozen=True)
class CloudSection:
    words: list[Word]
    documents: int
    chosen: KeywordEntries | None
    error: BackendError | None


def sized(cloud: KeywordCloud, child_id: str) -> list[Word]:
    """Words most frequent first (a screen reader hears them in that order), sized as the cloud's picture
    sizes them (a log scale)."""
    if not cloud.terms:
        return []
    top = max(t.documents for t in cloud.terms)
    words = []
    for t in cloud.terms:
        step = size_step(t.documents, top)
        href = f"/children/{child_id}?{urlencode({'keyword': t.term})}#cloud"
        words.append(Word(term=t.term, documents=t.documents, size=step, href=href))
    return words


def cloud_view(
    child_id: str, cloud: KeywordCloud | BackendError, chosen: KeywordEntries | BackendError | None
) -> CloudSection:
    """The section as shown: the sized words, the chosen word's records, or what went wrong (in the section
    only: the rest of the page is served)."""
    if isinstance(cloud, BackendError):
        return CloudSection(words=[], documents=0, chosen=None, error=cloud)
    if isinstance(chosen, BackendError):
        return CloudSection(
            words=sized(cloud, child_id), documents=cloud.documents, chosen=None, error=chosen
        )
    return CloudSection(words=sized(cloud, child_id), documents=cloud.documents, chosen=chosen, error=None)
