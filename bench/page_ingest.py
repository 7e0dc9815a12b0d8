"""The ingest benchmark with the page load running at the same time (`bench.page --with-ingest N`).

`bench.ingest` runs as its own process (its own chronology and analytics, topics and databases, on the same
Kafka and FerretDB), while the page is driven at the page benchmark's rate in consecutive slices for as long
as the ingest runs, its baseline phase included: both figures of the ingest are measured under page load.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable

from bench import vegeta

SLICE_S = 10.0
INGEST_LIMIT_S = 900.0
Attack = Callable[[float], Awaitable[vegeta.Report]]


async def ingest_under_page_load(events: int, children: int, rate: float, attack: Attack) -> list[str]:
    """Run `bench.ingest` while `attack(duration)` drives the page; its summary and the page's figures."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.ingest",
        "--events",
        str(events),
        "--children",
        str(children),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output = asyncio.create_task(proc.communicate())
    lines = [f"ingest of {events} events ({children} children) with the page at {rate:g}/s meanwhile:"]
    slices = 0
    try:
        async with asyncio.timeout(INGEST_LIMIT_S):
            while not output.done():
                report = await attack(SLICE_S)
                slices += 1
                lines.append(report.line(f"  page during ingest, slice {slices}"))
            stdout, _ = await output
    except TimeoutError:
        proc.kill()
        return [*lines, f"  the ingest did not finish within {INGEST_LIMIT_S:.0f}s"]
    wanted = ("SYSTEM", "BASELINE", "ratio", "final lag", "events ")
    summary = [f"  {line}" for line in stdout.decode().splitlines() if line.startswith(wanted)]
    if proc.returncode != 0:
        summary.append(f"  bench.ingest exited with {proc.returncode}: {stdout.decode()[-600:]}")
    return [*lines, *summary]
