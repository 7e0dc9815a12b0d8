"""Sustained end-to-end ingest: contact events published by a separate process → chronology and graph.

    ./dev bench [--events 100000] [--children 5000] [--batch 2000]

1. starts the infrastructure if needed, and chronology + analytics as processes with fresh databases,
   consumer groups and topics of the run's own (a prefix), trusting a key of the run's own;
2. SYSTEM: `bench/produce.py` publishes N events across the six agency topics; the clock stops when both
   consumer groups have committed everything (lag 0), i.e. every event is in both read models;
   a sample of children is then checked through the chronology and graph APIs;
3. BASELINE: a raw aiokafka consumer reads the same N records and `insert_many`s them into the same
   FerretDB, committing per batch (no validation, no second consumer);
4. prints both rates, their ratio, the final lag and the services' resident memory.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from pymongo import AsyncMongoClient

from bench.common import LOGS, cpu_by_program, end_offsets, lag, print_profile, rss_mb
from devstack import service_users
from devstack.infra import Endpoints, ensure_infra
from shared import mongo
from shared.topics import Topics, ensure_topics
from testsupport.identities import Identities, open_account
from testsupport.services import ServiceProcess

HERE = Path(__file__).resolve().parent


async def baseline(endpoints: Endpoints, start: dict[TopicPartition, int], total: int, batch: int) -> float:
    """Raw aiokafka consume + insert_many + commit per batch, on the same records, into the same server: what
    a straightforward consumer does, with no project code on its write path."""
    group = f"bench-baseline-{uuid.uuid4().hex[:8]}"
    client: AsyncMongoClient[mongo.Document] = mongo.connect(endpoints.mongo_url, app_name="bench")
    db_name = f"test_bench_baseline_{uuid.uuid4().hex[:8]}"
    collection = client[db_name]["entries"]
    consumer = AIOKafkaConsumer(
        bootstrap_servers=endpoints.kafka_bootstrap,
        group_id=group,
        enable_auto_commit=False,
        max_poll_records=batch,
        **endpoints.kafka_admin.aiokafka(),
    )
    await consumer.start()
    consumer.assign(list(start))
    for tp, offset in start.items():
        consumer.seek(tp, offset)
    done = 0
    t0 = time.perf_counter()
    try:
        while done < total:
            batches = await consumer.getmany(timeout_ms=500, max_records=batch)
            docs = []
            for records in batches.values():
                for r in records:
                    doc = json.loads(r.value)
                    doc["_id"] = doc.pop("id")
                    docs.append(doc)
            if docs:
                # raw: one plain insert_many per batch, none of the project's write path (shared.mongo)
                await collection.insert_many(docs, ordered=False)
                await consumer.commit()
                done += len(docs)
        return time.perf_counter() - t0
    finally:
        await consumer.stop()
        await client.drop_database(db_name)
        await client.close()


def batch_stats(metrics: str) -> str:
    values = {}
    for line in metrics.splitlines():
        for key in ("sg_batch_records_count", "sg_batch_records_sum", "sg_batch_seconds_sum"):
            if line.startswith(key + " "):
                values[key] = float(line.split()[1])
    batches = values.get("sg_batch_records_count", 0) or 1
    return (
        f"{batches:.0f} batches, {values.get('sg_batch_records_sum', 0) / batches:.0f} records each, "
        f"{1000 * values.get('sg_batch_seconds_sum', 0) / batches:.0f} ms each, "
        f"{values.get('sg_batch_seconds_sum', 0):.1f}s handling in all"
    )


async def main(args: argparse.Namespace) -> int:
    endpoints, _ = await asyncio.to_thread(ensure_infra)
    run = uuid.uuid4().hex[:8]
    # Topics of this run's own, so nothing else's history is replayed or measured.
    topics = Topics(prefix=f"bench{run}.")
    await ensure_topics(endpoints.kafka_bootstrap, topics.all(), credentials=endpoints.kafka_admin)
    service_users.grant_run(endpoints.kafka_bootstrap, topics)  # the services' users, on this run's topics
    identities = Identities()
    extra: dict[str, str] = {}
    for n in ("chronology", "analytics"):
        extra |= {
            f"{n.upper()}_BATCH_MAX_RECORDS": str(args.batch),
            f"{n.upper()}_TOPIC_PREFIX": topics.prefix,
        }
        extra |= identities.jwks_env(f"{n.upper()}_")
    services = {
        name: ServiceProcess(
            name,
            kafka_bootstrap=endpoints.kafka_bootstrap,
            mongo_url=endpoints.mongo_url,
            database=f"test_bench_{name}_{run}",
            group_suffix=f"-bench-{run}",
            log_dir=LOGS,
            extra_env=extra,
        )
        for name in ("chronology", "analytics")
    }
    groups = [f"{name}-bench-{run}" for name in services]
    try:
        for svc in services.values():
            svc.start(ready_within=180)  # on a busy machine (the page load beside it) a start takes longer
        start = await end_offsets(endpoints.kafka_bootstrap, topics)
        first = random.randrange(100_000_000, 900_000_000)
        from bench.produce import children

        sample = children(args.children, first)[:5]
        for nhs in sample:  # accounts for a few children, so their pages can be read through the APIs
            await open_account(
                endpoints.kafka_bootstrap,
                credentials=endpoints.kafka_admin,
                child_id=nhs,
                lead_id="bench-lead",
                topics=topics,
            )

        cpu_before = cpu_by_program()
        t0 = time.perf_counter()
        producer = await asyncio.create_subprocess_exec(
            sys.executable,
            str(HERE / "produce.py"),
            endpoints.kafka_bootstrap,
            str(args.events),
            str(args.children),
            str(first),
            topics.prefix,
            stdout=subprocess.PIPE,
        )
        profiler = (
            await asyncio.create_subprocess_exec(
                str(Path(sys.executable).parent / "py-spy"),
                "record",
                "--pid",
                str(services["chronology"].pid),
                "--format",
                "raw",
                "--output",
                str(LOGS / f"chronology-{run}.folded"),
                "--rate",
                "200",
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            if args.profile
            else None
        )
        peak = {name: 0.0 for name in services}
        while producer.returncode is None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(producer.wait(), 0.5)
            for name, svc in services.items():
                peak[name] = max(peak[name], rss_mb(svc.pid))
        publish_s = float(((await producer.stdout.read()) if producer.stdout else b"0").decode().strip() or 0)
        while True:
            lags = [await lag(endpoints.kafka_bootstrap, g, topics) for g in groups]
            for name, svc in services.items():
                peak[name] = max(peak[name], rss_mb(svc.pid))
            if all(v == 0 for v in lags):
                break
            await asyncio.sleep(0.1)
        system_s = time.perf_counter() - t0
        system_rate = args.events / system_s
        cpu_after = cpu_by_program()
        cpu = {
            k: v - cpu_before.get(k, 0.0) for k, v in cpu_after.items() if v - cpu_before.get(k, 0.0) > 0.2
        }
        if profiler:
            profiler.send_signal(signal.SIGINT)
            await asyncio.wait_for(profiler.wait(), 30)
            print_profile(LOGS / f"chronology-{run}.folded")

        # Check through the APIs that the events are readable where a person would read them.
        per_child = args.events // args.children
        headers = identities.headers("bench-lead")
        async with httpx.AsyncClient(timeout=30, headers=headers) as http:
            for nhs in sample:
                page = (
                    await http.get(
                        f"{services['chronology'].url}/children/{nhs}/chronology?limit=1&kind=contact"
                    )
                ).json()
                graph = (await http.get(f"{services['analytics'].url}/children/{nhs}/contact-graph")).json()
                assert page["total"] >= per_child and graph["total"] == page["total"], (
                    nhs,
                    page["total"],
                    graph,
                )

        async with httpx.AsyncClient(timeout=30) as http:
            for name, svc in services.items():
                metrics = (await http.get(f"{svc.url}/metrics")).text
                print(f"{name}: {batch_stats(metrics)}")

        baseline_s = await baseline(endpoints, start, args.events, args.batch)
        baseline_rate = args.events / baseline_s
        final_lag = [await lag(endpoints.kafka_bootstrap, g, topics) for g in groups]

        print(f"events                  {args.events} across {args.children} children, 6 agency topics")
        print(f"producer publish time   {publish_s:.1f}s ({args.events / publish_s:,.0f}/s)")
        print(
            f"SYSTEM end to end       {system_s:.1f}s  → {system_rate:,.0f} events/s (chronology AND graph)"
        )
        print(
            f"BASELINE raw aiokafka   {baseline_s:.1f}s  → {baseline_rate:,.0f} events/s (consume + insert_many)"
        )
        print(
            f"ratio system/baseline   {system_rate / baseline_rate:.2f}  (target ≥ 0.5; target rate ≥ 5,000/s)"
        )
        print(f"final lag               {dict(zip(groups, final_lag, strict=True))}")
        print("peak RSS MB             " + ", ".join(f"{n} {v:.0f}" for n, v in peak.items()))
        print(f"CPU seconds in the {system_s:.1f}s system phase (2 cores = {2 * system_s:.0f} available):")
        for name, seconds in sorted(cpu.items(), key=lambda kv: -kv[1]):
            print(f"  {seconds:6.1f}  {name}")
        return 0
    finally:
        for svc in services.values():
            svc.stop()
        client: AsyncMongoClient[mongo.Document] = mongo.connect(endpoints.mongo_url, app_name="bench")
        for svc in services.values():
            await client.drop_database(svc.env[svc.module.upper() + "_MONGO_DB"])
        await client.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--children", type=int, default=5_000)
    parser.add_argument("--batch", type=int, default=2_000, help="max records per consumer batch")
    parser.add_argument("--profile", action="store_true", help="sample chronology with py-spy during the run")
    sys.exit(asyncio.run(main(parser.parse_args())))
