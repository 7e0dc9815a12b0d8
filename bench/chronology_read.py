"""One child's chronology read, the whole-timeline path against the filtered path, beside a raw find.

    .venv/bin/python -m bench.chronology_read [--entries 20000] [--children 200] [--repeat 200]

Creates a database of its own with chronology's declared indexes (so the dev stack adds their GIN twins),
fills it with `--entries` entries across `--children` children (one in twenty a correction of the one before
it), then times `service.read_chronology`, first page of 50, for the lead and for the family:

- *whole*: no filter, as the child's page and the exports read, which makes one read of the child's entries;
- *filtered*: a filter that admits every entry (all kinds), so the same page through the query path (page,
  count, corrections, the family's visible ids);
- *raw find*: the child's entries fetched by PyMongo alone, the floor under both.

Needs the infrastructure (`./dev infra`, or it starts it).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import uuid
from collections.abc import Awaitable, Callable

from bench.indexes import entry, timed
from chronology import service
from chronology.models import ChronologyQuery, Lens
from chronology.store import ENTRIES, ORDER, MongoChronologyStore
from devstack.infra import ensure_infra
from shared import mongo

LEAD = Lens(family_view=False, see_sensitive_providers=True, see_location=True)
FAMILY = Lens(family_view=True, see_sensitive_providers=False, see_location=True)
AUTHOR = {"name": "Ms Patel", "role": "Health visitor"}
EVERY_KIND = ChronologyQuery(kinds=["contact", "account", "forum"])


def documents(kids: list[str], total: int) -> list[mongo.Document]:
    docs = [entry(kids[i % len(kids)], i) for i in range(total)]
    for doc in docs:  # what the service stores beside the fields the index bench needs
        doc |= {"author": AUTHOR, "day": doc["occurred_at"].date().isoformat(), "impact": "neutral"}
    for i in range(len(kids), total):
        if (i // len(kids)) % 20 == 0:  # each child's 20th, 40th… entry corrects the child's one before it
            docs[i]["supersedes"] = docs[i - len(kids)]["_id"]
    return docs


async def main(args: argparse.Namespace) -> int:
    endpoints, _ = await asyncio.to_thread(ensure_infra)
    client = mongo.connect(endpoints.mongo_url, app_name="bench-chronology-read")
    name = f"test_bench_chronology_read_{uuid.uuid4().hex[:8]}"
    db = client[name]
    try:
        store = MongoChronologyStore(db)
        await store.create_indexes()
        kids = [f"child-{n:05d}" for n in range(args.children)]
        docs = documents(kids, args.entries)
        for start in range(0, len(docs), 5000):
            await db[ENTRIES].insert_many(docs[start : start + 5000], ordered=False)
        rng = random.Random(7)

        def read(lens: Lens, query: ChronologyQuery | None) -> Callable[[int], Awaitable[object]]:
            async def call(_: int) -> object:
                return await service.read_chronology(
                    store=store, child_id=rng.choice(kids), lens=lens, query=query, limit=50
                )

            return call

        async def raw(_: int) -> object:
            return await db[ENTRIES].find({"child_id": rng.choice(kids)}).sort(ORDER).to_list()

        per_child = args.entries // args.children
        print(
            f"{args.entries} entries across {args.children} children (~{per_child} each); "
            f"{args.repeat} sequential reads each, first page of 50"
        )
        rows = [
            ("raw find, the child's entries", raw),
            ("lead, whole", read(LEAD, None)),
            ("lead, filtered", read(LEAD, EVERY_KIND)),
            ("family, whole", read(FAMILY, None)),
            ("family, filtered", read(FAMILY, EVERY_KIND)),
        ]
        await timed(20, raw)  # warm the connection pool and PostgreSQL's cache
        results = {label: await timed(args.repeat, call) for label, call in rows}
        floor = results["raw find, the child's entries"][0]
        for label, (p50, p95) in results.items():
            print(f"{label:32} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  ({p50 / floor:4.2f}x raw)")
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
