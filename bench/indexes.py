"""What the local stack's GIN twins (devstack.gin) change: reads on a chronology of N entries, with and without.

    .venv/bin/python -m bench.indexes [--entries 20000] [--children 200] [--repeat 200]

Creates a database of its own with chronology's declared indexes (so the dev stack adds their twins), fills
it, times an `_id` lookup, a child's page query (`find({"child_id": X}).sort(...).limit(50)`) and a child's
count, reads PostgreSQL's scan counters, then drops the twins and measures again: the second figures are
the stack as FerretDB 1.24 alone leaves it. Needs the infrastructure (`./dev infra`, or it starts it).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from pymongo.asynchronous.database import AsyncDatabase

from chronology.store import ENTRIES, ORDER, MongoChronologyStore
from devstack import tables
from devstack.infra import ensure_infra
from devstack.paths import Ports
from shared import mongo


def entry(child_id: str, i: int) -> mongo.Document:
    at = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(hours=i)
    return {
        "_id": str(uuid.uuid4()),
        "child_id": child_id,
        "occurred_at": at,
        "recorded_at": at,
        "kind": "contact",
        "agency": "health",
        "contact_type": "home_visit",
        "summary": f"Benchmark contact {i}: home visit, child seen and spoken to alone.",
        "visibility": "family_visible",
    }


async def timed(repeat: int, call: Callable[[int], Awaitable[object]]) -> tuple[float, float]:
    """Median and p95 of `repeat` sequential calls, in ms."""
    samples = []
    for n in range(repeat):
        t0 = time.perf_counter()
        await call(n)
        samples.append(1000 * (time.perf_counter() - t0))
    samples.sort()
    return statistics.median(samples), samples[int(0.95 * (len(samples) - 1))]


async def measure(
    db: AsyncDatabase[mongo.Document], ids: list[str], kids: list[str], repeat: int
) -> dict[str, str]:
    entries = db[ENTRIES]
    rng = random.Random(7)

    async def by_id(_: int) -> object:
        return await entries.find_one({"_id": rng.choice(ids)})

    async def page(_: int) -> object:
        return await entries.find({"child_id": rng.choice(kids)}).sort(ORDER).limit(50).to_list()

    async def count(_: int) -> object:
        return await entries.count_documents({"child_id": rng.choice(kids)})

    out = {}
    for name, call in (("_id lookup", by_id), ("child's page", page), ("child's count", count)):
        p50, p95 = await timed(repeat, call)
        out[name] = f"p50 {p50:6.1f} ms  p95 {p95:6.1f} ms"
    return out


async def main(args: argparse.Namespace) -> int:
    endpoints, _ = await asyncio.to_thread(ensure_infra)
    ports = Ports.from_env()
    client = mongo.connect(endpoints.mongo_url, app_name="bench-indexes")
    name = f"test_bench_indexes_{uuid.uuid4().hex[:8]}"
    db = client[name]
    try:
        await MongoChronologyStore(db).create_indexes()
        kids = [f"child-{n:05d}" for n in range(args.children)]
        docs = [entry(kids[i % len(kids)], i) for i in range(args.entries)]
        for start in range(0, len(docs), 5000):
            await db[ENTRIES].insert_many(docs[start : start + 5000], ordered=False)
        ids = [str(d["_id"]) for d in docs]
        table = await asyncio.to_thread(tables.table_of, ports, name, ENTRIES)
        before = await asyncio.to_thread(tables.scans, ports, name, table)
        with_twins = await measure(db, ids, kids, args.repeat)
        await asyncio.sleep(11)  # FerretDB's idle backends report their counters within ~10 s
        after = await asyncio.to_thread(tables.scans, ports, name, table)
        dropped = await asyncio.to_thread(tables.drop_twins, ports, name, table)
        without = await measure(db, ids, kids, args.repeat)

        print(f"{args.entries} entries across {args.children} children; {args.repeat} sequential calls each")
        print(f"{'':16}{'with GIN twins':34}{f'without ({dropped} twins dropped)'}")
        for key, value in with_twins.items():
            print(f"{key:16}{value:34}{without[key]}")
        print(
            f"PostgreSQL, with twins: {after.seq_scan - before.seq_scan} sequential scans, "
            f"{after.idx_scan - before.idx_scan} index scans of {table}"
        )
        return 0
    finally:
        await client.drop_database(name)
        await client.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entries", type=int, default=20_000)
    parser.add_argument("--children", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=200)
    sys.exit(asyncio.run(main(parser.parse_args())))
