"""The keyword cloud's rebuild against YAKE's ceiling: kept keywords reused instead of extracted again.

    .venv/bin/python -m bench.cloud_rebuild [--events 5000] [--children 500] [--workers 2]

1. starts the infrastructure if needed and analytics as a process (`--workers` keyword workers) on topics and
   a database of the run's own; publishes N contact events and waits until its cloud keeps N documents (each
   through YAKE once, live);
2. runs `python -m analytics rebuild --model cloud` beside the running service: every document's text is
   unchanged, so every document's kept keywords are reused; the command prints its own documents/s, how many
   were reused and extracted, and YAKE's rate on the same texts through the same pool (the ceiling);
3. prints those lines, the check's verdict, and the load average (the machine is shared).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from pathlib import Path

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from bench.common import LOGS
from devstack.infra import ensure_infra
from shared import mongo
from shared.topics import Topics
from testsupport.services import IsolatedRun

HERE = Path(__file__).resolve().parent


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.2f} (1 min), {five:.2f} (5 min)"


async def until_kept(db: AsyncDatabase[mongo.Document], count: int) -> None:
    """Poll the live cloud's document count (a benchmark step with no event to wait on)."""
    kept = db["keyword_documents"]
    for _ in range(3600):
        if await kept.count_documents({}) >= count:
            return
        await asyncio.sleep(1)
    raise SystemExit(f"the live cloud did not keep {count} documents within an hour")


async def main(args: argparse.Namespace) -> int:
    endpoints = (await asyncio.to_thread(ensure_infra))[0]
    run = IsolatedRun(
        kafka_bootstrap=endpoints.kafka_bootstrap,
        kafka_admin=endpoints.kafka_admin,
        mongo_url=endpoints.mongo_url,
        topics=Topics(prefix=f"bench{uuid.uuid4().hex[:8]}."),
        log_dir=LOGS,
    )
    await run.create_topics()
    analytics = run.service("analytics", KEYWORD_WORKERS=str(args.workers))
    client: AsyncMongoClient[mongo.Document] = mongo.connect(endpoints.mongo_url, app_name="bench")
    db = client[analytics.env["ANALYTICS_MONGO_DB"]]
    try:
        analytics.start()
        producer = await asyncio.create_subprocess_exec(
            sys.executable,
            str(HERE / "produce.py"),
            endpoints.kafka_bootstrap,
            str(args.events),
            str(args.children),
            "200000000",
            run.topics.prefix,
            stdout=asyncio.subprocess.DEVNULL,
        )
        await producer.wait()
        t0 = time.perf_counter()
        await until_kept(db, args.events)
        live_s = time.perf_counter() - t0
        print(
            f"live: {args.events:,} documents through YAKE into the cloud in {live_s:.0f}s "
            f"({args.events / live_s:,.0f}/s); {load()}"
        )
        before = load()
        rebuild = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "analytics",
            "rebuild",
            "--model",
            "cloud",
            env=analytics.env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        out, _ = await rebuild.communicate()
        for line in out.decode().splitlines():
            if line.startswith(("cloud:", "  keyword", "replayed", "checked")):
                print(line)
        print(f"rebuild exit {rebuild.returncode}; {before} → {load()}")
        return rebuild.returncode or 0
    finally:
        analytics.stop()
        await client.drop_database(analytics.env["ANALYTICS_MONGO_DB"])
        await client.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--children", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2)
    sys.exit(asyncio.run(main(parser.parse_args())))
