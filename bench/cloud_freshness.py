"""Cloud freshness: from a contact being published to its words being in the child's keyword cloud.

    .venv/bin/python -m bench.cloud_freshness [--rate 100] [--duration 30] [--children 50]

1. starts the infrastructure if needed, and analytics as a process (`--workers` keyword workers, 2 by
   default: one a core) on topics and a database of the run's own; opens the children's accounts;
2. SYSTEM: publishes `--rate` contacts a second for `--duration` seconds, each a different short case note,
   spread over the children; a watcher reads the children's clouds from analytics' store every 50 ms: the
   k-th contact of a child is in the cloud once the child's cloud counts k documents. Latency = when the
   watcher saw it minus when it was published (so up to 50 ms more than the truth);
3. BASELINE: the same wave again, consumed by a raw process: aiokafka, YAKE alone in a bare
   ProcessPoolExecutor (as many workers), `insert_many` of the keywords and a counter per child; watched the same way;
4. prints p50, p99 and the maximum of both, and the load average beside each (the machine is shared);
   with `--profile`, where analytics' own process spent its time during step 2 (py-spy).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import sys
import time
import uuid
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from pymongo import AsyncMongoClient, UpdateMany

from bench.common import LOGS, print_profile, py_spy
from bench.produce import children as nhs_numbers
from bench.produce import event
from bench.yake_pool import bare_batch, documents
from devstack.infra import Endpoints, ensure_infra
from devstack.infra import endpoints as infra_endpoints
from devstack.kafka import admin_credentials
from shared import mongo
from shared.topics import AGENCIES, PARTITIONS, Topics
from testsupport.identities import Identities, open_account
from testsupport.services import IsolatedRun

HERE = Path(__file__).resolve().parent
POLL_S = 0.05


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.2f} (1 min), {five:.2f} (5 min)"


async def wave(
    bootstrap: str,
    topics: Topics,
    kids: list[str],
    sent: dict[str, list[float]],
    *,
    rate: int,
    duration: float,
    seed: int,
) -> None:
    """Publish the wave at a steady rate, noting each child's publish times in order in `sent`."""
    texts = documents(int(rate * duration), seed=seed)
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, **admin_credentials().aiokafka()
    )
    await producer.start()
    try:
        t0 = time.perf_counter()
        for i, text in enumerate(texts):
            await asyncio.sleep(max(0.0, t0 + i / rate - time.perf_counter()))
            nhs, agency = kids[i % len(kids)], AGENCIES[i % len(AGENCIES)]
            body = json.loads(event(nhs, agency, i))
            body["data"]["summary"] = text
            sent[nhs].append(time.time())
            await producer.send_and_wait(topics.contact(agency), json.dumps(body).encode(), key=nhs.encode())
    finally:
        await producer.stop()


async def watch(
    counts: Any, sent: dict[str, list[float]], *, deadline_s: float, done: asyncio.Event, field: str
) -> list[float]:
    """Poll each child's document count (at the dotted `field` of the document keyed by the child) until
    every published contact is seen (or the deadline). The collection holds only this run's children."""
    seen: dict[str, int] = defaultdict(int)
    latencies: list[float] = []
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        now = time.time()
        async for doc in counts.find({}, {field: 1}):
            child, count = doc["_id"], doc
            for part in field.split("."):
                count = count.get(part, {})
            if child not in sent or not isinstance(count, int):
                continue
            have = min(count, len(sent[child]))
            latencies.extend(now - t for t in sent[child][seen[child] : have])
            seen[child] = max(seen[child], have)
        if done.is_set() and sum(seen.values()) >= sum(len(v) for v in sent.values()):
            break
        await asyncio.sleep(POLL_S)
    return latencies


async def measure(
    endpoints: Endpoints,
    topics: Topics,
    kids: list[str],
    counts: Any,
    field: str,
    args: argparse.Namespace,
    seed: int,
) -> tuple[list[float], int]:
    sent: dict[str, list[float]] = defaultdict(list)
    done = asyncio.Event()

    async def publish() -> None:
        await wave(
            endpoints.kafka_bootstrap, topics, kids, sent, rate=args.rate, duration=args.duration, seed=seed
        )
        done.set()

    publisher = asyncio.create_task(publish())
    await asyncio.sleep(0.2)  # the watcher follows `sent` as it fills in
    latencies = await watch(counts, sent, deadline_s=args.duration + 120, done=done, field=field)
    await publisher
    return latencies, sum(len(v) for v in sent.values())


def report(name: str, latencies: list[float], published: int, before: str) -> None:
    print(
        f"{name:<9} {len(latencies):,}/{published:,} seen; p50 {1000 * percentile(latencies, 0.5):,.0f} ms, "
        f"p99 {1000 * percentile(latencies, 0.99):,.0f} ms, max {1000 * max(latencies, default=0):,.0f} ms; "
        f"{before} → {load()}"
    )


async def raw_consumer(database: str, prefix: str, workers: int) -> None:
    """The baseline's process: from the log's end, YAKE alone on each batch, keywords and a count per child."""
    where = infra_endpoints()
    topics = Topics(prefix)
    partitions = [TopicPartition(t, p) for t in topics.contacts for p in range(PARTITIONS)]
    consumer = AIOKafkaConsumer(
        bootstrap_servers=where.kafka_bootstrap, enable_auto_commit=False, **admin_credentials().aiokafka()
    )
    client: AsyncMongoClient[mongo.Document] = mongo.connect(where.mongo_url, app_name="bench")
    db = client[database]
    loop = asyncio.get_running_loop()
    await consumer.start()
    consumer.assign(partitions)
    await consumer.seek_to_end(*partitions)
    print("ready", flush=True)
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        await loop.run_in_executor(pool, bare_batch, ["Warm up the worker."])
        while True:
            batch = [
                r for rs in (await consumer.getmany(timeout_ms=100, max_records=500)).values() for r in rs
            ]
            if not batch:
                continue
            bodies = [json.loads(r.value) for r in batch]
            await loop.run_in_executor(pool, bare_batch, [b["data"]["summary"] for b in bodies])
            await db["raw"].insert_many(
                [{"_id": b["id"], "child": b["subject"]} for b in bodies], ordered=False
            )
            per_child: dict[str, int] = defaultdict(int)
            for b in bodies:
                per_child[b["subject"]] += 1
            await db["counts"].bulk_write(
                [
                    UpdateMany({"_id": c}, {"$inc": {"documents": n}}, upsert=True)
                    for c, n in per_child.items()
                ]
            )


async def main(args: argparse.Namespace) -> int:
    endpoints: Endpoints = (await asyncio.to_thread(ensure_infra))[0]
    LOGS.mkdir(parents=True, exist_ok=True)
    run = IsolatedRun(
        kafka_bootstrap=endpoints.kafka_bootstrap,
        kafka_admin=endpoints.kafka_admin,
        mongo_url=endpoints.mongo_url,
        topics=Topics(prefix=f"bench{uuid.uuid4().hex[:8]}."),
        log_dir=LOGS,
    )
    await run.create_topics()
    identities = Identities()
    analytics = run.service(
        "analytics",
        KEYWORD_WORKERS=str(args.workers),
        BATCH_MAX_RECORDS="500",
        **{k.removeprefix("ANALYTICS_"): v for k, v in identities.jwks_env("ANALYTICS_").items()},
    )
    client: AsyncMongoClient[mongo.Document] = mongo.connect(endpoints.mongo_url, app_name="bench")
    raw_db = f"test_bench_rawcloud_{run.id}"
    kids = nhs_numbers(args.children, 300_000_000 + int(time.time()) % 100_000_000)
    raw: asyncio.subprocess.Process | None = None
    try:
        analytics.start()
        for nhs in kids:
            await open_account(
                endpoints.kafka_bootstrap,
                credentials=endpoints.kafka_admin,
                child_id=nhs,
                lead_id="bench-lead",
                topics=run.topics,
            )
        db = client[analytics.env["ANALYTICS_MONGO_DB"]]
        print(
            f"{args.rate} contacts/s for {args.duration:.0f}s over {args.children} children; {args.workers} keyword workers each side"
        )
        before = load()
        folded = LOGS / f"cloud-freshness-{run.id}.folded"
        spy = py_spy(analytics.pid, folded, args.duration + 5) if args.profile else None
        latencies, published = await measure(
            endpoints, run.topics, kids, db["keyword_clouds"], "full.documents", args, 1
        )
        report("SYSTEM", latencies, published, before)
        if spy is not None:
            await asyncio.to_thread(spy.wait, 60)
            print_profile(folded, name="analytics")
        analytics.stop()

        raw = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.cloud_freshness",
            "--raw",
            raw_db,
            run.topics.prefix,
            str(args.workers),
            stdout=asyncio.subprocess.PIPE,
        )
        assert raw.stdout is not None
        await raw.stdout.readline()  # "ready": it reads from the log's end from now on
        before = load()
        latencies, published = await measure(
            endpoints, run.topics, kids, client[raw_db]["counts"], "documents", args, 2
        )
        report("BASELINE", latencies, published, before)
        print("target: p99 ≤ 5 s")
        return 0
    finally:
        if raw is not None and raw.returncode is None:
            raw.terminate()
            await raw.wait()
        analytics.stop()
        await client.drop_database(analytics.env["ANALYTICS_MONGO_DB"])
        await client.drop_database(raw_db)
        await client.close()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--raw"]:
        asyncio.run(raw_consumer(sys.argv[2], sys.argv[3], int(sys.argv[4])))
        sys.exit(0)
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=int, default=100, help="contacts published a second")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of publishing")
    parser.add_argument("--children", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2, help="keyword worker processes (both sides)")
    parser.add_argument("--profile", action="store_true", help="sample analytics with py-spy while it works")
    sys.exit(asyncio.run(main(parser.parse_args())))
