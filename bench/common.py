"""What the benchmarks share: consumer lag, the topics' end offsets, CPU and memory per process, py-spy output."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition

from devstack.kafka import admin_credentials
from shared.kafka.lag import LagMonitor
from shared.topics import PARTITIONS, Topics

LOGS = Path(__file__).resolve().parent.parent / ".cache" / "bench-logs"


async def lag(bootstrap: str, group: str, topics: Topics) -> int:
    monitor = LagMonitor(bootstrap, credentials=admin_credentials(), group=group, topics=topics.contacts)
    try:
        return await monitor.measure()
    finally:
        await monitor.close()


async def end_offsets(bootstrap: str, topics: Topics) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, **admin_credentials().aiokafka()
    )
    await consumer.start()
    try:
        partitions = [TopicPartition(t, p) for t in topics.contacts for p in range(PARTITIONS)]
        return dict(await consumer.end_offsets(partitions))
    finally:
        await consumer.stop()


# The project's own modules, as py-spy names their files.
PROJECT_MODULES = ("web/", "chronology/", "accounts/", "analytics/", "notifications/", "shared/", "bench/")


def py_spy(pid: int, folded: Path, seconds: float) -> subprocess.Popen[bytes]:
    """Sample a process with py-spy for `seconds` (100 a second), raw stacks into `folded`."""
    spy = str(Path(sys.executable).parent / "py-spy")
    argv = [spy, "record", "--pid", str(pid), "--format", "raw", "--output", str(folded)]
    argv += ["--rate", "100", "--duration", str(max(1, int(seconds)))]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def print_profile(folded: Path, top: int = 12, *, name: str = "chronology") -> None:
    """Where a process's time went, from py-spy's stacks: the functions its samples were in (self time), then
    the project's own functions by the share of samples they were on the stack for (inclusive)."""
    own: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    total = 0
    for line in folded.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        total += int(count)
        frames = stack.split(";")
        own[frames[-1]] = own.get(frames[-1], 0) + int(count)
        mine = {f.rsplit(":", 1)[0] + ")" for f in frames if f.partition(" (")[2].startswith(PROJECT_MODULES)}
        for frame in mine:
            inclusive[frame] = inclusive.get(frame, 0) + int(count)
    print(f"{name} profile ({total} samples; flame data in {folded})")
    print("  self time:")
    for frame, n in sorted(own.items(), key=lambda kv: -kv[1])[:top]:
        print(f"  {100 * n / max(total, 1):5.1f}%  {frame[:110]}")
    print("  project functions, inclusive:")
    for frame, n in sorted(inclusive.items(), key=lambda kv: -kv[1])[:top]:
        print(f"  {100 * n / max(total, 1):5.1f}%  {frame[:110]}")


def cpu_by_program() -> dict[str, float]:
    """CPU seconds used so far by every process on the machine, grouped by program (java = Kafka)."""
    ticks = os.sysconf("SC_CLK_TCK")
    out: dict[str, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
            cmdline = (stat.parent / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        comm = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        name = comm
        if comm.startswith("python") and len(cmdline) > 2:
            name = "python " + cmdline[2].decode(errors="replace").rsplit("/", 1)[-1]
        elif comm == "postgres":
            name = "postgres"
        out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / ticks
    return out


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0
