"""The child's page under load: `GET /children/{id}` on web, open loop, beside a bare FastAPI baseline.

    .venv/bin/python -m bench.page [--rate 200] [--duration 10] [--children 5000] [--entries 500000]
                                   [--find-saturation] [--profile web,chronology] [--only-full]
                                   [--with-ingest 100000]

For the dataset asked for, then for one ten times smaller (same entries per child):
1. starts accounts, chronology, analytics and web as processes with databases, topics and consumer groups of
   the run's own, trusting (and accounts signing with) a key of the run's own; opens the children's accounts
   through accounts' API, each with a lead, a team member, a parent and a few audited views; publishes the
   entries as agency contact events (bench.produce) and waits until chronology and analytics hold them all;
2. loads a few pages one after another (one user);
3. with `--find-saturation`: the highest rate with p99 < 250 ms (doubling from 1/s, then bisecting;
   bounded), then twice that rate: its 503s and how long after the load stops the page and /readyz answer
   again (first, while the web is fresh: an overloaded web can take minutes to drain);
4. drives the page at `--rate` for `--duration` with vegeta (open loop) for the lead's, a member's and a
   parent's views of many children, mixed, and reports how long the web takes to answer again afterwards;
5. drives the same targets at the same rate against the raw baseline (bench.page_baseline): the same page
   rendered from memory by a bare FastAPI app, the framework's ceiling;
6. with `--with-ingest N` (the full dataset only): the ingest benchmark (bench.ingest, N events) with the page
   driven at `--rate` all the while (bench.page_ingest).
Everything runs on 127.0.0.1; every step is bounded in time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

import httpx

from bench import vegeta
from bench.common import LOGS, cpu_by_program, lag, print_profile
from bench.page_data import AUDIT_VIEWS, FORUM_THREADS, Dataset, open_accounts, seed_forums, wait_until_known
from bench.page_ingest import ingest_under_page_load
from bench.produce import publish
from devstack.infra import Endpoints, ensure_infra
from shared import mongo
from shared.topics import Topics
from testsupport.identities import Identities
from testsupport.services import IsolatedRun, ServiceProcess, free_port

TARGET_P99_MS = 250.0
RECOVERY_LIMIT_S = 60.0
MIN_STEP_REQUESTS = 20  # fewer make a p99 meaningless
BACKENDS = ("accounts", "chronology", "analytics", "forum")


@dataclass
class Stack:
    run: IsolatedRun
    data: Dataset
    services: dict[str, ServiceProcess] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def web(self) -> ServiceProcess:
        return self.services["web"]


async def start_stack(endpoints: Endpoints, *, children: int, entries: int) -> Stack:
    """The services of one dataset, loaded: accounts, team, family and audit history, then the entries."""
    topics = Topics(prefix=f"bench{uuid.uuid4().hex[:8]}.")
    identities = Identities()
    run = IsolatedRun(
        kafka_bootstrap=endpoints.kafka_bootstrap,
        kafka_admin=endpoints.kafka_admin,
        mongo_url=endpoints.mongo_url,
        topics=topics,
        log_dir=LOGS,
    )
    await run.create_topics()  # with the services' rights on the run's own topics
    stack = Stack(run=run, data=Dataset(identities=identities))
    try:
        await _load(endpoints, stack, children=children, entries=entries)
    except BaseException:
        await stop_stack(endpoints, stack)  # nothing left running or stored behind an interrupted load
        raise
    return stack


async def _load(endpoints: Endpoints, stack: Stack, *, children: int, entries: int) -> None:
    run, identities = stack.run, stack.data.identities
    jwks = identities.jwks_json()
    pem = identities.issuer.signing_key.private_pem
    stack.services["accounts"] = run.service("accounts", SIGNING_KEY_PEM=pem, AUTH_JWKS=jwks)
    for name in ("chronology", "analytics", "forum"):
        stack.services[name] = run.service(name, AUTH_JWKS=jwks)
    for svc in stack.services.values():
        await asyncio.to_thread(svc.start)
    urls = {f"{n.upper()}_URL": stack.services[n].url for n in BACKENDS}
    stack.services["web"] = run.service("web", AUTH_JWKS=jwks, COOKIE_SECURE="false", **urls)
    await asyncio.to_thread(stack.web.start)

    first = random.randrange(100_000_000, 900_000_000)
    accounts_s = await open_accounts(
        stack.services["accounts"].url, stack.data, children=children, first=first, run=run.id
    )
    await wait_until_known(
        stack.services["chronology"].url,
        stack.services["analytics"].url,
        stack.data,
        forum_url=stack.services["forum"].url,
    )
    forum_s = await seed_forums(stack.services["forum"].url, stack.data)
    t0 = time.perf_counter()
    await publish(endpoints.kafka_bootstrap, entries, children, first, run.topics.prefix)
    # The keyword cloud's workers too: YAKE still running under the measurement would be counted as the page's.
    groups = [f"{n}-test-{run.id}" for n in ("chronology", "analytics", "analytics")]
    groups[2] += ".cloud"
    deadline = time.monotonic() + max(600.0, entries / 200)  # the cloud's YAKE: some 300-500 documents/s
    while any([await lag(endpoints.kafka_bootstrap, g, run.topics) for g in groups]):
        if time.monotonic() > deadline:
            raise TimeoutError(f"chronology and analytics still lag after {time.perf_counter() - t0:.0f}s")
        await asyncio.sleep(1)
    stack.notes.append(
        f"{children} children (each with a lead, a member, a parent and {AUDIT_VIEWS} audited views) opened through "
        f"accounts' API in {accounts_s:.0f}s; {len(FORUM_THREADS)} forum threads each, "
        f"in {forum_s:.0f}s; {entries} entries published and in both read models in "
        f"{time.perf_counter() - t0:.0f}s"
    )


async def stop_stack(endpoints: Endpoints, stack: Stack) -> None:
    for svc in stack.services.values():
        await asyncio.to_thread(svc.stop)
    client = mongo.connect(endpoints.mongo_url, app_name="bench-page")
    try:
        for svc in stack.services.values():
            await client.drop_database(svc.env[svc.module.upper() + "_MONGO_DB"])
    finally:
        await client.close()


async def one_user(stack: Stack, targets: list[tuple[str, str]], count: int = 10) -> str:
    """A few pages one after another, nothing else running: what one person waits."""
    samples = []
    async with httpx.AsyncClient(base_url=stack.web.url, timeout=60) as http:
        for path, token in targets[:count]:
            t0 = time.perf_counter()
            response = await http.get(path, cookies={"sg_session": token})
            samples.append(1000 * (time.perf_counter() - t0))
            if response.status_code != 200 or "Benchmark contact" not in response.text:
                return f"one user: {path} answered {response.status_code} without the chronology"
        metrics = (await http.get("/metrics")).text
    samples.sort()
    return (
        f"one user, {count} pages one after another: p50 {statistics.median(samples):.0f} ms, "
        f"max {samples[-1]:.0f} ms; each backend's mean: {backend_means(metrics)}"
    )


def backend_means(metrics: str) -> str:
    """Mean time the web waited for each backend, from its `web_backend_request_seconds` histogram."""
    sums: dict[str, float] = {}
    counts: dict[str, float] = {}
    for line in metrics.splitlines():
        for suffix, into in (("_sum", sums), ("_count", counts)):
            prefix = f"web_backend_request_seconds{suffix}{{"
            if line.startswith(prefix):
                backend = line.split('backend="', 1)[1].split('"', 1)[0]
                into[backend] = into.get(backend, 0.0) + float(line.rsplit(" ", 1)[1])
    return ", ".join(f"{b} {1000 * sums[b] / counts[b]:.0f} ms" for b in sorted(sums) if counts.get(b))


async def _page_ok(http: httpx.AsyncClient, url: str, path: str, token: str) -> bool:
    try:
        ready = await http.get(url + "/readyz")
        page = await http.get(url + path, cookies={"sg_session": token})
    except httpx.HTTPError:
        return False
    return ready.status_code == 200 and page.status_code == 200


async def recovered_after(url: str, probe: tuple[str, str], *, since: float) -> float | None:
    """Seconds from `since` until /readyz and the page both answer 200 (None: not within the limit)."""
    async with httpx.AsyncClient(timeout=5) as http:
        while time.monotonic() - since < RECOVERY_LIMIT_S:
            if await _page_ok(http, url, *probe):
                return time.monotonic() - since
            await asyncio.sleep(0.25)
    return None


async def attack(url: str, targets: list[tuple[str, str]], rate: float, duration: float) -> vegeta.Report:
    path = LOGS / f"targets-{uuid.uuid4().hex[:8]}.jsonl"
    vegeta.write_targets(path, url, targets)
    try:
        report = await asyncio.to_thread(vegeta.attack, path, rate=rate, duration_s=duration)
    finally:
        path.unlink(missing_ok=True)
    # Let a backlog drain before the next step; how long that takes is part of the figure.
    return replace(report, recovered_s=await recovered_after(url, targets[0], since=time.monotonic()))


async def find_saturation(url: str, targets: list[tuple[str, str]], step_s: float) -> tuple[float, list[str]]:
    """The highest rate with p99 < 250 ms and no errors: doubling from 1/s, then three bisections."""
    lines: list[str] = []
    good, bad, rate = 0.0, 0.0, 1.0
    while rate <= 1024:
        report = await attack(url, targets, rate, max(step_s, MIN_STEP_REQUESTS / rate))
        lines.append(report.line(f"  step {rate:g}/s"))
        if report.p99_ms < TARGET_P99_MS and report.failed == 0:
            good, rate = rate, rate * 2
        else:
            bad = rate
            break
    for _ in range(3 if good and bad else 0):  # not even 1/s: the figure is "below 1/s"
        rate = round((good + bad) / 2, 1)
        if rate in (good, bad):
            break
        report = await attack(url, targets, rate, max(step_s, MIN_STEP_REQUESTS / rate))
        lines.append(report.line(f"  step {rate:g}/s"))
        if report.p99_ms < TARGET_P99_MS and report.failed == 0:
            good = rate
        else:
            bad = rate
    return good, lines


async def overload(url: str, targets: list[tuple[str, str]], rate: float, duration: float) -> list[str]:
    """Twice the saturation rate: the answers, then how soon after the load stops the page works again."""
    path = LOGS / f"targets-{uuid.uuid4().hex[:8]}.jsonl"
    vegeta.write_targets(path, url, targets)
    started = time.monotonic()
    try:
        running = asyncio.create_task(asyncio.to_thread(vegeta.attack, path, rate=rate, duration_s=duration))
        await asyncio.sleep(duration)
        recovery = asyncio.create_task(recovered_after(url, targets[0], since=started + duration))
        report = await running
        seconds = await recovery
    finally:
        path.unlink(missing_ok=True)
    after = _recovery(seconds)
    return [
        report.line(f"overload {rate:g}/s"),
        f"  recovered (page and /readyz answer 200) {after} after the load stopped",
    ]


def _recovery(seconds: float | None) -> str:
    return f"{seconds:.1f}s" if seconds is not None else f"not within {RECOVERY_LIMIT_S:.0f}s"


def start_baseline(stack: Stack, targets: list[tuple[str, str]]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    config = {
        "port": port,
        "jwks": stack.data.identities.jwks_json(),
        "targets": [{"path": p, "token": t} for p, t in dict.fromkeys(targets)],
        **{f"{n}_url": stack.services[n].url for n in BACKENDS},
    }
    path = LOGS / f"baseline-{stack.run.id}.json"
    path.write_text(json.dumps(config))
    log = (LOGS / f"baseline-{stack.run.id}.log").open("ab")
    proc = subprocess.Popen([sys.executable, "-m", "bench.page_baseline", str(path)], stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the baseline exited with {proc.returncode}; see {log.name}")
        try:
            if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    proc.kill()
    raise TimeoutError("the baseline did not load its pages within 600s")


def profilers(stack: Stack, names: list[str], seconds: float) -> dict[str, subprocess.Popen[bytes]]:
    spy = str(Path(sys.executable).parent / "py-spy")
    out = {}
    for name in names:
        folded = LOGS / f"page-{name}-{stack.run.id}.folded"
        argv = [
            spy,
            "record",
            "--pid",
            str(stack.services[name].pid),
            "--format",
            "raw",
            "--output",
            str(folded),
        ]
        argv += ["--rate", "100", "--duration", str(int(seconds))]
        out[name] = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return out


class Lines(list[str]):
    """The figures of one dataset, printed as they come (a later step failing loses none) and kept for the summary."""

    def append(self, line: str) -> None:
        if "p50" in line:  # the machine is shared: each figure says how busy it was
            line += "  load {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())
        print(line, flush=True)
        super().append(line)

    def __iadd__(self, lines: Iterable[str]) -> Lines:  # type: ignore[override,misc]
        for line in lines:
            self.append(line)
        return self


async def measure(stack: Stack, args: argparse.Namespace, label: str, *, ingest: bool = False) -> list[str]:
    """One user, then (asked for) the saturation search and its overload while the web is still fresh, then
    the main rate and the baseline: an overloaded web may take minutes to drain, and would spoil what follows."""
    lines = Lines()
    lines.append(f"== {label}: " + "; ".join(stack.notes))
    pairs = stack.data.page_targets(args.sample)
    targets = [(path, stack.data.token(who)) for path, who in pairs]
    lines.append("  " + await one_user(stack, targets))
    if args.find_saturation:
        saturation, steps = await find_saturation(stack.web.url, targets, args.step_duration)
        lines += steps
        found = f"{saturation:g}/s" if saturation else "below 1/s"
        lines.append(f"saturation (highest rate with p99 < {TARGET_P99_MS:.0f} ms, no errors): {found}")
        lines += await overload(stack.web.url, targets, max(2 * saturation, 2.0), args.duration)
    spies = profilers(stack, args.profile, args.duration) if args.profile else {}
    cpu_before = cpu_by_program()
    system = await attack(stack.web.url, targets, args.rate, args.duration)
    lines.append(system.line(f"web page at {args.rate:g}/s, {args.duration:g}s"))
    lines.append("  CPU seconds during it (and its drain): " + _cpu_since(cpu_before))
    lines.append(
        f"  then answering again (page and /readyz) {_recovery(system.recovered_s)} after vegeta's last answer"
    )
    for name, proc in spies.items():
        await asyncio.to_thread(proc.wait, 60)
        print_profile(LOGS / f"page-{name}-{stack.run.id}.folded", name=name)
    lines += await _baseline(stack, targets, args)
    if ingest and args.with_ingest:
        lines += await ingest_under_page_load(
            args.with_ingest,
            args.ingest_children,
            args.rate,
            lambda seconds: attack(stack.web.url, targets, args.rate, seconds),
        )
    return lines


def _cpu_since(before: dict[str, float]) -> str:
    used = {k: v - before.get(k, 0.0) for k, v in cpu_by_program().items()}
    top = sorted(((v, k) for k, v in used.items() if v >= 0.2), reverse=True)[:8]
    return ", ".join(f"{k} {v:.1f}" for v, k in top)


async def _baseline(stack: Stack, targets: list[tuple[str, str]], args: argparse.Namespace) -> list[str]:
    try:
        baseline, base_url = await asyncio.to_thread(start_baseline, stack, targets)
    except (RuntimeError, TimeoutError) as exc:
        return [f"BASELINE not measured: {exc}"]
    try:
        raw = await attack(base_url, targets, args.rate, args.duration)
        return [raw.line(f"BASELINE bare FastAPI at {args.rate:g}/s")]
    finally:
        baseline.terminate()
        baseline.wait(30)


async def main(args: argparse.Namespace) -> int:
    vegeta.ensure_binary()
    LOGS.mkdir(parents=True, exist_ok=True)
    endpoints, _ = await asyncio.to_thread(ensure_infra)
    sizes = [(args.children, args.entries)]
    if not args.only_full:
        sizes.append((max(1, args.children // 10), max(1, args.entries // 10)))
    results = []
    for n, (children, entries) in enumerate(sizes):
        print(f"loading {children} children and {entries} entries ...", flush=True)
        stack = await start_stack(endpoints, children=children, entries=entries)
        try:
            label = f"{children} children, {entries} entries"
            results.append(await measure(stack, args, label, ingest=n == 0))
        finally:
            await stop_stack(endpoints, stack)
    print("\nsummary (targets: p99 < 50 ms at 200/s; the same within 1.5x on the smaller dataset)")
    for lines in results:
        print("\n".join(lines))
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rate", type=float, default=200.0, help="pages per second, open loop")
    p.add_argument("--duration", type=float, default=10.0, help="seconds per measurement")
    p.add_argument("--children", type=int, default=5_000)
    p.add_argument("--entries", type=int, default=500_000)
    p.add_argument("--sample", type=int, default=200, help="children whose pages are requested (x3 viewers)")
    p.add_argument("--find-saturation", action="store_true", help="search the rate with p99 < 250 ms")
    p.add_argument("--step-duration", type=float, default=5.0, help="seconds per saturation step")
    p.add_argument(
        "--profile",
        type=lambda s: [n for n in s.split(",") if n],
        default=[],
        help="services to sample with py-spy during the main measurement, e.g. web,chronology",
    )
    p.add_argument("--only-full", action="store_true", help="skip the ten times smaller dataset")
    p.add_argument(
        "--with-ingest",
        type=int,
        default=0,
        help="then run bench.ingest with this many events under page load",
    )
    p.add_argument("--ingest-children", type=int, default=5_000, help="children of the ingest run")
    return p


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parser().parse_args())))
