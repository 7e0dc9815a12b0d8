"""Keyword extraction: YAKE, off the event loop, in a pool of worker processes.

YAKE is pure Python and CPU-bound (about 150-470 short documents/s per core here): run on the event loop it
would stall every request and the consumer's heartbeats, and a thread would hold the GIL. The pool's workers
are started with `spawn` (forking a process that runs an event loop and client threads is unsafe), import only
this module, and keep one extractor each. They run at a lower priority: the cloud may lag behind a burst of
contacts, the chronology and the graph must not.
"""

from __future__ import annotations

import asyncio
import hashlib
import multiprocessing
import os
import re
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from importlib import metadata
from typing import Protocol

import yake

NICENESS = 10  # added to the workers' scheduling priority
MAX_NGRAM = 2
PER_DOCUMENT = 5  # keyphrases kept per document: enough for a case's themes, few enough to read
Keywords = list[tuple[str, float]]  # (keyphrase, YAKE score: lower is more relevant)

# Words YAKE keeps from case notes that say nothing about the case on their own (kept as phrases: "missed two
# weeks" stays, "weeks" alone goes).
NOISE = frozenset(
    [
        "day",
        "days",
        "week",
        "weeks",
        "month",
        "months",
        "year",
        "years",
        "hour",
        "hours",
        "minute",
        "minutes",
        "today",
        "yesterday",
        "tomorrow",
        "morning",
        "afternoon",
        "evening",
        "night",
        "time",
        "times",
        "called",
        "said",
        "says",
        "told",
        "asked",
        "noted",
        "seen",
    ]
)

# How keywords are extracted, in the digest of every kept document (`models.text_digest`): change any of it and
# a rebuild extracts every document again instead of reusing what was kept.
EXTRACTION = (
    f"yake {metadata.version('yake')} n={MAX_NGRAM} top={PER_DOCUMENT * 2} dedup=0.9 "
    f"noise={hashlib.sha256(' '.join(sorted(NOISE)).encode()).hexdigest()[:12]}"
)

_extractor: yake.KeywordExtractor | None = None


def extract_batch(texts: Sequence[str]) -> list[Keywords]:
    """The keyphrases of each text, lower-cased, most relevant first: twice as many as a document keeps, so
    that some are left once names are taken out (`without_names`). A single word already inside a two-word
    phrase is dropped, so that "home visit" is not also counted as "home" and "visit"."""
    global _extractor
    if _extractor is None:
        _extractor = yake.KeywordExtractor(lan="en", n=MAX_NGRAM, top=PER_DOCUMENT * 2, dedupLim=0.9)
    found: list[Keywords] = []
    for text in texts:
        phrases: Keywords = []
        for phrase, score in _extractor.extract_keywords(text) if text.strip() else []:
            term = " ".join(phrase.lower().split())
            if term and term not in NOISE and all(term != p for p, _ in phrases):
                phrases.append((term, float(score)))
        inside = {word for p, _ in phrases if " " in p for word in p.split()}
        kept = [(p, s) for p, s in phrases if " " in p or p not in inside]
        found.append(kept[: PER_DOCUMENT * 2])
    return found


_WORD = re.compile(r"[^\W\d_]{2,}")


def name_words(names: Iterable[str | None]) -> frozenset[str]:
    """The words of people's names, lower-cased: a keyphrase with any of them in it is left out."""
    return frozenset(w.lower() for name in names if name for w in _WORD.findall(name))


def without_names(keywords: Keywords, names: frozenset[str]) -> Keywords:
    """The document's keywords with no name in them, at most `PER_DOCUMENT`."""
    return [(term, score) for term, score in keywords if not names.intersection(term.split())][:PER_DOCUMENT]


def _lower_priority() -> None:
    os.nice(NICENESS)


class Extractor(Protocol):
    """Keywords for a batch of texts: `KeywordPool` in the service, `extract_batch` inline in unit tests."""

    async def start(self) -> None: ...

    async def extract(self, texts: Sequence[str]) -> list[Keywords]: ...

    async def stop(self) -> None: ...


class KeywordPool:
    """The worker processes; `extract` awaits one batch without blocking the loop."""

    def __init__(self, workers: int) -> None:
        self._workers = workers
        self._pool: ProcessPoolExecutor | None = None

    async def start(self) -> None:
        context = multiprocessing.get_context("spawn")
        # The workers start with the first batch, not here: readiness does not wait for YAKE to import.
        self._pool = ProcessPoolExecutor(
            max_workers=self._workers, mp_context=context, initializer=_lower_priority
        )

    async def extract(self, texts: Sequence[str]) -> list[Keywords]:
        if self._pool is None:
            raise RuntimeError("the keyword pool is not started")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, extract_batch, list(texts))

    async def stop(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
