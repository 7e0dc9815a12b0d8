"""Rebuilding a service's read models from the topics, then serving the rebuilt ones without a gap.

`python -m <service> rebuild` (chronology, analytics; `./dev rebuild` runs both on the local stack) does, for
every read model the service declares (`<service>.readmodels`, `shared.readmodel`):

1. opens the model's stores over a new generation of its collections (`entries_g<n>`; what a failed rebuild
   left behind is dropped first) and replays every topic of its feeds from the beginning to the end offsets
   taken when it started, through the same handlers the live consumers run (`shared.rebuild.replay`);
2. catches up from those offsets to where the live consumer groups have committed, so that the two
   generations hold the same events;
3. proves them equal: document counts and a checksum per child (`shared.rebuild.checksum`), printed; if they
   differ it catches up once more (the live consumers may have moved on meanwhile) and, if they still differ,
   exits 1 and serves nothing new (`--accept-differences` swaps anyway, after a deliberate change to a model);
4. swaps: one write to the model's pointer (`read_models`); each service process re-reads it within
   `shared.readmodel.POLL_S`, so reads go from the whole old generation to the whole new one;
5. replays from the live groups' offsets read in step 2 to the log's end at once (before the services have
   noticed the swap), and again once they all have (after a few polls): whatever the live consumers wrote
   into the old generation meanwhile is written again into the new one (handlers are idempotent), so
   nothing is lost; a reader may miss an event written in the last moment before the swap for as long as
   the first of those replays takes (typically well under the poll);
6. drops the old generation (`--keep-previous` keeps it).

Progress is a bar with events/s and the time left on a terminal, plain lines otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from aiokafka import TopicPartition
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from shared import mongo
from shared.kafka.consumer import BatchProcessor, RetryPolicy
from shared.readmodel import POLL_S, Feed, Generations, ModelView, ReadModel
from shared.rebuild import checksum
from shared.rebuild.progress import Progress
from shared.rebuild.replay import Kafka, Offsets, Skipped, processor_for, replay
from shared.settings import ServiceSettings


@dataclass
class Options:
    models: Sequence[str] = ()  # names; empty: every model of the service
    batch: int = 2000
    accept_differences: bool = False
    keep_previous: bool = False
    show_children: bool = False
    verify_rounds: int = 3
    grace_s: float = 3 * POLL_S + 0.5


@dataclass
class Job:
    """One feed of one model being replayed, and how far it has got."""

    model: ReadModel[Any]
    feed: Feed
    group: str
    processor: BatchProcessor[Any]
    skipped: Skipped
    partitions: list[TopicPartition]
    reached: Offsets = field(default_factory=dict)
    replayed: int = 0
    finished_at: float = 0.0


@dataclass
class Target:
    model: ReadModel[Any]
    served: int
    generation: int
    stores: Any
    live: ModelView
    rebuilt: ModelView


async def prepare(db: AsyncDatabase[mongo.Document], model: ReadModel[Any], gens: Generations) -> Target:
    served = gens.served(model.name)
    present = await gens.generations_present(model)
    for leftover in sorted(present - {served}):
        await gens.drop(model, leftover)
    generation = max(present | {served}) + 1
    live, rebuilt = gens.fixed(model.name, served), gens.fixed(model.name, generation)
    await mongo.ensure_indexes(rebuilt, model.collections)
    return Target(model, served, generation, model.open(rebuilt, live), live, rebuilt)


async def replay_all(
    kafka: Kafka,
    jobs: Sequence[Job],
    targets: Sequence[Target],
    upto: Sequence[Offsets],
    *,
    label: str,
    batch: int,
) -> int:
    """Replay each job from where it got to its `upto` (one per job), all at once, under one progress bar."""
    ends = [
        {tp: max(to[tp], job.reached[tp]) for tp in job.partitions}
        for job, to in zip(jobs, upto, strict=True)
    ]
    total = sum(
        end[tp] - job.reached[tp] for job, end in zip(jobs, ends, strict=True) for tp in job.partitions
    )
    progress = Progress(total, label=label)

    async def one(job: Job, end: Offsets) -> None:
        job.replayed += await replay(
            kafka, job.processor, start=job.reached, end=end, batch=batch, advance=progress.advance
        )
        job.reached = end
        job.finished_at = time.perf_counter()

    await asyncio.gather(*(one(job, end) for job, end in zip(jobs, ends, strict=True)))
    for target in targets:
        if target.model.finish is not None:
            await target.model.finish(target.stores)
    progress.close()
    return total


async def catch_up(kafka: Kafka, jobs: Sequence[Job], targets: Sequence[Target], batch: int) -> int:
    """Replay each feed to where its live group has committed (never back); returns how many records."""
    upto = [await kafka.committed(job.group, job.partitions) for job in jobs]
    return await replay_all(kafka, jobs, targets, upto, label="catching up with the live groups", batch=batch)


def say(out: TextIO, line: str) -> None:
    out.write(line + "\n")
    out.flush()


async def verify(
    kafka: Kafka, jobs: Sequence[Job], targets: Sequence[Target], options: Options, out: TextIO
) -> list[str]:
    """Counts and per-child checksums of both generations of every model; the differences left."""
    diffs: list[str] = []
    for attempt in range(options.verify_rounds):
        diffs = []
        for target in targets:
            live, rebuilt = await checksum.fingerprints(target.model, target.live, target.rebuilt)
            found = checksum.differences(live, rebuilt)
            say(out, f"{target.model.name}: {'EQUAL' if not found else 'DIFFERENT'}")
            for line in checksum.summary(target.model, live, rebuilt):
                say(out, line)
            if options.show_children:
                for line in checksum.per_child(live, rebuilt):
                    say(out, line)
            diffs += [f"{target.model.name}: {d}" for d in found]
        if not diffs or attempt == options.verify_rounds - 1:
            break
        if not await catch_up(kafka, jobs, targets, options.batch):
            break  # nothing new from the live groups: the difference is real
    return diffs


async def jobs_for(targets: Sequence[Target], kafka: Kafka, group_id: str, retry: RetryPolicy) -> list[Job]:
    """One job per feed of every model, each with its live group's name and its topics' partitions."""
    jobs: list[Job] = []
    for target in targets:
        for feed in target.model.feeds(target.stores):
            skipped = Skipped()
            jobs.append(
                Job(
                    target.model,
                    feed,
                    group_id + (f".{feed.group}" if feed.group else ""),
                    processor_for(feed, skipped, retry),
                    skipped,
                    await kafka.partitions(feed.topics),
                )
            )
    return jobs


async def report(jobs: Sequence[Job], targets: Sequence[Target], started: float, out: TextIO) -> None:
    """What was not stored (as live), and each model's own lines (the cloud's rate against YAKE's)."""
    for job in jobs:
        if job.skipped.total:
            reasons = ", ".join(f"{k} {v}" for k, v in sorted(job.skipped.reasons.items()))
            say(out, f"{job.feed.title}: {job.skipped.total} events not stored ({reasons}), as live")
    for target in targets:
        if target.model.report is not None:
            took = max(j.finished_at for j in jobs if j.model is target.model) - started
            for line in await target.model.report(target.stores, took):
                say(out, line)


async def rebuild(
    *,
    db: AsyncDatabase[mongo.Document],
    kafka: Kafka,
    group_id: str,
    models: Sequence[ReadModel[Any]],
    options: Options,
    retry: RetryPolicy | None = None,
    out: TextIO | None = None,
) -> int:
    """Steps 1-6 of the module's docstring for `models`; returns the exit status (1: they differ)."""
    out = out or sys.stdout
    chosen = [m for m in models if not options.models or m.name in options.models]
    unknown = set(options.models) - {m.name for m in models}
    if unknown:
        say(
            out,
            f"no such read model: {', '.join(sorted(unknown))} (known: {', '.join(m.name for m in models)})",
        )
        return 2
    gens = Generations(db)
    await gens.refresh()
    targets = [await prepare(db, model, gens) for model in chosen]
    jobs = await jobs_for(targets, kafka, group_id, retry or RetryPolicy())
    every = sorted({tp for job in jobs for tp in job.partitions})
    first = await kafka.beginning_offsets(every)
    end = await kafka.end_offsets(every)
    for job in jobs:
        job.reached = {tp: first[tp] for tp in job.partitions}
    for t in targets:
        say(out, f"{t.model.name}: rebuilding generation {t.generation} (serving {t.served})")
    started = time.perf_counter()
    events = await replay_all(kafka, jobs, targets, [end] * len(jobs), label="replaying", batch=options.batch)
    replay_s = time.perf_counter() - started
    say(out, f"replayed {events:,} events in {replay_s:.1f}s: {events / max(replay_s, 1e-9):,.0f} events/s")
    await catch_up(kafka, jobs, targets, options.batch)
    checked = time.perf_counter()
    diffs = await verify(kafka, jobs, targets, options, out)
    say(out, f"checked in {time.perf_counter() - checked:.1f}s")
    await report(jobs, targets, started, out)
    if diffs:
        for line in diffs:
            say(out, "  " + line)
        if not options.accept_differences:
            say(out, "the rebuilt read models differ from the served ones: nothing swapped")
            return 1
    await swap(kafka, gens, jobs, targets, options, out)
    return 1 if diffs else 0


async def swap(
    kafka: Kafka,
    gens: Generations,
    jobs: Sequence[Job],
    targets: Sequence[Target],
    options: Options,
    out: TextIO,
) -> None:
    """Steps 4-6: point every model at its new generation, then replay what the live consumers may have
    written only into the old one while the services were learning of the swap."""
    for target in targets:
        await gens.swap(target.model.name, target.generation)
        say(out, f"{target.model.name}: now serving generation {target.generation}")
    every = sorted({tp for job in jobs for tp in job.partitions})
    # At once, while the services are still reading the old generation (they learn of the swap within a poll):
    # what the live consumers wrote since the catch-up, so a reader that moves over finds it there too.
    await replay_all(
        kafka,
        jobs,
        targets,
        [await kafka.end_offsets(every)] * len(jobs),
        label="at the swap",
        batch=options.batch,
    )
    # Then once every process serves the new generation: whatever the live consumers still wrote into the
    # old one meanwhile (everything they had handled lies below the log's end now).
    await asyncio.sleep(options.grace_s)
    await replay_all(
        kafka,
        jobs,
        targets,
        [await kafka.end_offsets(every)] * len(jobs),
        label="after the swap",
        batch=options.batch,
    )
    if not options.keep_previous:
        for target in targets:
            await gens.drop(target.model, target.served)
            say(out, f"{target.model.name}: dropped generation {target.served}")


def parser(service: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=f"python -m {service} rebuild",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--model", action="append", default=[], help="only this read model (repeatable)")
    p.add_argument("--batch", type=int, default=2000, help="records per replayed batch")
    p.add_argument("--accept-differences", action="store_true", help="swap even if the checksums differ")
    p.add_argument("--keep-previous", action="store_true", help="keep the old generation's collections")
    p.add_argument("--show-children", action="store_true", help="print every child's checksums")
    return p


def options_from(args: argparse.Namespace) -> Options:
    return Options(
        models=tuple(args.model),
        batch=args.batch,
        accept_differences=args.accept_differences,
        keep_previous=args.keep_previous,
        show_children=args.show_children,
    )


async def run_command(
    settings: ServiceSettings,
    argv: Sequence[str],
    *,
    client: AsyncMongoClient[mongo.Document],
    models: Sequence[ReadModel[Any]],
) -> int:
    """`python -m <service> rebuild [options]` with the service's own settings (its environment)."""
    args = parser(settings.service_name).parse_args(list(argv))
    return await rebuild(
        db=client[settings.database],
        kafka=Kafka(settings.kafka_bootstrap, settings.kafka_credentials()),
        group_id=settings.group_id,
        models=models,
        options=options_from(args),
        retry=RetryPolicy(attempts=settings.retry_attempts, backoff_s=settings.retry_backoff_s),
    )
