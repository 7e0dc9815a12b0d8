"""Rebuild throughput: N contact events replayed into the chronology and the contact graph, against a raw replay.

    .venv/bin/python -m bench.rebuild [--events 1000000] [--children 5000] [--batch 2000]

1. starts the infrastructure if needed; `bench/produce.py` publishes N events across the six agency topics
   of the run's own (a prefix);
2. SYSTEM: `python -m chronology rebuild` and `python -m analytics rebuild --model graph` run at once, as two
   processes (one a core), into fresh databases: every event into the chronology and into the graph, through
   the services' own handlers. That first build has nothing served to equal (generation 0 is empty), so it
   runs with `--accept-differences`; the clock is the replay's (the rebuild's "replayed ... events/s" line),
   and the whole command's wall time is printed beside it;
3. CHECK: both rebuild again, now with a served generation to equal: the replay again, then counts and
   per-child checksums of both generations, which must be EQUAL (the command exits 0);
4. BASELINE: two raw replays at once, as two processes: aiokafka from the beginning to the same end offsets,
   `json.loads`, `insert_many` into one collection each (no validation, no project code);
5. prints every rate, the ratio, and the load average beside each figure (the machine is shared).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition
from pymongo import AsyncMongoClient

from bench.common import LOGS
from devstack.infra import Endpoints, ensure_infra
from devstack.infra import endpoints as infra_endpoints
from devstack.kafka import admin_credentials
from shared import mongo
from shared.topics import PARTITIONS, Topics
from testsupport.services import IsolatedRun

HERE = Path(__file__).resolve().parent
REPLAYED = re.compile(r"replayed ([\d,]+) events in ([\d.]+)s")


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.2f} (1 min), {five:.2f} (5 min)"


async def raw_replay(bootstrap: str, mongo_url: str, database: str, prefix: str, batch: int) -> None:
    """The baseline's one process: every record of the run's agency topics, as it is, into one collection."""
    topics = Topics(prefix)
    partitions = [TopicPartition(t, p) for t in topics.contacts for p in range(PARTITIONS)]
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=batch,
        **admin_credentials().aiokafka(),
    )
    client: AsyncMongoClient[mongo.Document] = mongo.connect(mongo_url, app_name="bench")
    collection = client[database]["raw"]
    await consumer.start()
    try:
        end = await consumer.end_offsets(partitions)
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        todo = {tp for tp in partitions if end[tp] > 0}
        done = 0
        t0 = time.perf_counter()
        while todo:
            docs = []
            for tp, records in (await consumer.getmany(timeout_ms=500, max_records=batch)).items():
                for r in records:
                    if r.offset < end[tp]:
                        doc = json.loads(r.value)
                        doc["_id"] = doc.pop("id")
                        docs.append(doc)
                if records and records[-1].offset >= end[tp] - 1:
                    todo.discard(tp)
            if docs:
                await collection.insert_many(docs, ordered=False)
                done += len(docs)
        seconds = time.perf_counter() - t0
        print(f"replayed {done:,} events in {seconds:.1f}s", flush=True)
    finally:
        await consumer.stop()
        await client.close()


async def run_all(commands: list[tuple[str, list[str], dict[str, str]]]) -> dict[str, tuple[float, str, int]]:
    """Run the commands at once; for each: its wall time, its output, its exit status."""

    async def one(name: str, argv: list[str], env: dict[str, str]) -> tuple[str, tuple[float, str, int]]:
        t0 = time.perf_counter()
        with (LOGS / f"rebuild-{name}-{uuid.uuid4().hex[:6]}.log").open("wb") as log:
            proc = await asyncio.create_subprocess_exec(*argv, env=env, stdout=subprocess.PIPE, stderr=log)
            out, _ = await proc.communicate()
        return name, (time.perf_counter() - t0, out.decode(), proc.returncode or 0)

    return dict(await asyncio.gather(*(one(*c) for c in commands)))


def rate_of(output: str) -> tuple[int, float]:
    found = REPLAYED.search(output)
    if not found:
        raise SystemExit(f"no 'replayed' line in:\n{output}")
    return int(found.group(1).replace(",", "")), float(found.group(2))


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
    services = {
        name: run.service(name, BATCH_MAX_RECORDS=str(args.batch), KEYWORD_WORKERS="1")
        for name in ("chronology", "analytics")
    }
    python = sys.executable
    baseline_dbs = [f"test_bench_raw_{uuid.uuid4().hex[:8]}" for _ in range(2)]
    try:
        produced = await asyncio.to_thread(
            subprocess.run,
            [
                python,
                str(HERE / "produce.py"),
                endpoints.kafka_bootstrap,
                str(args.events),
                str(args.children),
                "100000000",
                run.topics.prefix,
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        print(f"published {args.events:,} events in {float(produced.stdout):.1f}s; {load()}")
        batch = ["--batch", str(args.batch)]
        commands = [
            ("chronology", [python, "-m", "chronology", "rebuild", *batch], services["chronology"].env),
            (
                "graph",
                [python, "-m", "analytics", "rebuild", "--model", "graph", *batch],
                services["analytics"].env,
            ),
        ]
        first = await run_all([(n, [*a, "--accept-differences"], e) for n, a, e in commands])
        print(f"SYSTEM: first build into empty databases; {load()}")
        total_events, slowest = 0, 0.0
        for name, (wall, out, _) in first.items():
            events, seconds = rate_of(out)
            total_events += events
            slowest = max(slowest, seconds)
            print(
                f"  {name:<10} {events:,} events replayed in {seconds:.1f}s = {events / seconds:,.0f}/s"
                f" (the whole command, checks and swap included: {wall:.1f}s)"
            )
        system_rate = args.events / slowest
        print(
            f"  both      {args.events:,} contact events into the chronology AND the graph in {slowest:.1f}s"
            f" = {system_rate:,.0f} contact events/s"
        )

        second = await run_all(commands)
        print(f"CHECK: both rebuilt again and compared with what the first build serves; {load()}")
        for name, (wall, out, status) in second.items():
            events, seconds = rate_of(out)
            verdict = [line for line in out.splitlines() if ": EQUAL" in line or ": DIFFERENT" in line]
            sums = [line.strip() for line in out.splitlines() if "served" in line and "rebuilt" in line]
            checked = re.search(r"checked in ([\d.]+)s", out)
            print(
                f"  {name:<10} exit {status}; {'; '.join(verdict)}; replay {events / seconds:,.0f}/s; "
                f"check {checked.group(1) if checked else '?'}s; whole command {wall:.1f}s"
            )
            for line in sums:
                print(f"             {line}")

        raw = await run_all(
            [
                (
                    f"raw{i}",
                    [python, "-m", "bench.rebuild", "--raw", db, run.topics.prefix, *batch],
                    dict(os.environ),
                )
                for i, db in enumerate(baseline_dbs)
            ]
        )
        print(f"BASELINE: two raw replays at once (aiokafka + json.loads + insert_many); {load()}")
        raw_slowest = 0.0
        for name, (_, out, _) in raw.items():
            events, seconds = rate_of(out)
            raw_slowest = max(raw_slowest, seconds)
            print(f"  {name:<10} {events:,} events in {seconds:.1f}s = {events / seconds:,.0f}/s")
        raw_rate = args.events / raw_slowest
        print(
            f"  both      {args.events:,} events into two collections in {raw_slowest:.1f}s = {raw_rate:,.0f}/s"
        )
        print(f"ratio system/baseline  {system_rate / raw_rate:.2f}")
        minutes = 1_000_000 / system_rate / 60
        print(f"1 million events at this rate: {minutes:.1f} minutes (target under 5)")
        return 0
    finally:
        client: AsyncMongoClient[mongo.Document] = mongo.connect(endpoints.mongo_url, app_name="bench")
        for svc in services.values():
            await client.drop_database(svc.env[svc.module.upper() + "_MONGO_DB"])
        for db in baseline_dbs:
            await client.drop_database(db)
        await client.close()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--raw"]:
        where = infra_endpoints()  # started by the parent run
        asyncio.run(
            raw_replay(where.kafka_bootstrap, where.mongo_url, sys.argv[2], sys.argv[3], int(sys.argv[5]))
        )
        sys.exit(0)
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--children", type=int, default=5_000)
    parser.add_argument("--batch", type=int, default=2_000, help="records per replayed batch")
    sys.exit(asyncio.run(main(parser.parse_args())))
