"""YAKE documents/s on 2 cores: analytics' `KeywordPool` against YAKE alone in a bare ProcessPoolExecutor.

    .venv/bin/python -m bench.yake_pool [--documents 4000] [--workers 2] [--batch 50]

Both get the same short case-note documents (a contact's summary, action and outcome: 25-45 words), in
batches of `--batch`, every batch submitted at once so that every worker stays busy:

- SYSTEM: `KeywordPool(workers)` from analytics (spawned workers at nice +10, `extract_batch`: YAKE with the
  service's settings, lower-casing, the noise words, the single words inside phrases dropped);
- BASELINE: `ProcessPoolExecutor(workers)` (spawned, normal priority) running `yake.KeywordExtractor` with the
  same language, n-gram size, count and dedup limit, and nothing else.

Each is warmed up first (the workers started and YAKE imported), then timed; the load average is printed
beside each figure, since the machine is shared and the service's workers yield to everything else.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

import yake

from analytics.cloud.keywords import MAX_NGRAM, PER_DOCUMENT, KeywordPool

WORDS = [
    "home",
    "visit",
    "school",
    "attendance",
    "missed",
    "appointment",
    "health",
    "visitor",
    "mother",
    "father",
    "carer",
    "kitchen",
    "food",
    "fridge",
    "coat",
    "hungry",
    "bruise",
    "injury",
    "police",
    "report",
    "shouting",
    "neighbour",
    "housing",
    "damp",
    "mould",
    "rent",
    "arrears",
    "referral",
    "assessment",
    "strategy",
    "meeting",
    "child",
    "protection",
    "plan",
    "support",
    "worker",
    "nursery",
    "speech",
    "language",
    "therapy",
    "sleep",
    "bedroom",
    "siblings",
    "grandmother",
    "alcohol",
    "drinking",
    "domestic",
    "abuse",
    "refuge",
    "counselling",
    "bullying",
    "lunch",
    "uniform",
    "homework",
    "teacher",
    "mentor",
    "exclusion",
    "GP",
    "immunisations",
    "dentist",
    "hospital",
    "emergency",
    "department",
]

_bare: yake.KeywordExtractor | None = None


def documents(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)

    def sentence() -> str:
        words = rng.sample(WORDS, rng.randint(7, 13))
        return " ".join(words).capitalize() + "."

    return [" ".join(sentence() for _ in range(3)) for _ in range(count)]


def bare_batch(texts: Sequence[str]) -> int:
    """YAKE alone: one extractor per worker, the service's parameters, nothing done with the result."""
    global _bare
    if _bare is None:
        _bare = yake.KeywordExtractor(lan="en", n=MAX_NGRAM, top=PER_DOCUMENT * 2, dedupLim=0.9)
    for text in texts:
        _bare.extract_keywords(text)
    return len(texts)


def batches(texts: Sequence[str], size: int) -> list[list[str]]:
    return [list(texts[i : i + size]) for i in range(0, len(texts), size)]


async def system(texts: Sequence[str], workers: int, size: int) -> float:
    pool = KeywordPool(workers)
    await pool.start()
    try:
        await asyncio.gather(*(pool.extract(["Warm up the worker."]) for _ in range(workers * 2)))
        t0 = time.perf_counter()
        await asyncio.gather(*(pool.extract(b) for b in batches(texts, size)))
        return len(texts) / (time.perf_counter() - t0)
    finally:
        await pool.stop()


async def baseline(texts: Sequence[str], workers: int, size: int) -> float:
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        warm = [loop.run_in_executor(pool, bare_batch, ["Warm up the worker."]) for _ in range(workers * 2)]
        await asyncio.gather(*warm)
        t0 = time.perf_counter()
        await asyncio.gather(*(loop.run_in_executor(pool, bare_batch, b) for b in batches(texts, size)))
        return len(texts) / (time.perf_counter() - t0)


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.2f} (1 min), {five:.2f} (5 min)"


async def main(args: argparse.Namespace) -> int:
    texts = documents(args.documents)
    words = sum(len(t.split()) for t in texts) / len(texts)
    print(
        f"{len(texts):,} documents of {words:.0f} words on average, batches of {args.batch}, {args.workers} workers"
    )
    before = load()
    rate = await system(texts, args.workers, args.batch)
    print(
        f"SYSTEM   KeywordPool        {rate:8,.0f} documents/s ({rate / args.workers:,.0f} per worker); "
        f"{before} → {load()}"
    )
    before = load()
    raw = await baseline(texts, args.workers, args.batch)
    print(
        f"BASELINE bare process pool  {raw:8,.0f} documents/s ({raw / args.workers:,.0f} per worker); "
        f"{before} → {load()}"
    )
    print(f"ratio system/baseline        {rate / raw:.2f}")
    print(f"a million documents through the pool: {1_000_000 / rate / 60:.0f} minutes")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--documents", type=int, default=4000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=50)
    sys.exit(asyncio.run(main(parser.parse_args())))
