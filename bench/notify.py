"""Event published → notification on a live stream: latency at a steady rate, beside a raw baseline.

    .venv/bin/python -m bench.notify [--rate 500] [--duration 10] [--children 20] [--profile]

1. starts the infrastructure if needed, and notifications as a process with a fresh database, consumer
   groups and topics of the run's own, trusting a key of the run's own;
2. opens `--children` accounts (all led by one person), opens that person's live stream (SSE), and waits
   until a warm-up contact per child has arrived on it;
3. SYSTEM: publishes significant contacts at `--rate` per second for `--duration` seconds (aiokafka,
   acks=all); for each, the time from just before the publish to its notification read off the stream;
4. BASELINE: a bare aiokafka consumer → sse-starlette stream, nothing in between (no decoding, no rules,
   no database, no access check), on the same broker at the same rate, read by the same client;
5. prints p50/p95/p99/max of both and how many arrived. Target: p99 < 250 ms.
With `--profile`, py-spy samples the notifications process during step 3 and its profile is printed.
Everything runs on 127.0.0.1 and every step has a deadline.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import uvicorn
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route

from bench.common import LOGS, print_profile, py_spy
from devstack.infra import Endpoints, ensure_infra
from notifications.models import notification_id
from shared.contracts.contacts import ContactRecorded, entry_key
from shared.events import Envelope
from shared.kafka.broker import event_key
from shared.topics import Topics
from testsupport.events import account_opened, contact_event, new_nhs_number
from testsupport.identities import Identities
from testsupport.services import IsolatedRun, free_port

LEAD = "bench-lead"
IDS = Identities()


def percentiles(samples: list[float]) -> str:
    if not samples:
        return "no samples"
    ordered = sorted(samples)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    return (
        f"p50 {at(0.50):6.1f} ms  p95 {at(0.95):6.1f} ms  p99 {at(0.99):6.1f} ms  "
        f"max {ordered[-1] * 1000:6.1f} ms  mean {statistics.fmean(ordered) * 1000:6.1f} ms  (n={len(ordered)})"
    )


async def read_stream(
    url: str, headers: dict[str, str], on_event: Callable[[dict[str, object]], None]
) -> None:
    """Read Server-Sent Events forever, handing each event's JSON data to `on_event` as it arrives."""
    async with httpx.AsyncClient(timeout=None) as http, http.stream("GET", url, headers=headers) as response:
        response.raise_for_status()
        data = ""
        async for line in response.aiter_lines():
            if line.startswith("data:"):
                data = line[5:].strip()
            elif line == "" and data:
                on_event(json.loads(data))
                data = ""


async def paced(rate: int, duration: float, send: Callable[[int], Awaitable[None]]) -> None:
    """Call `send(i)` `rate` times a second for `duration` seconds, in ticks of 10 ms."""
    total = int(rate * duration)
    started = time.perf_counter()
    sent = 0
    while sent < total:
        due = min(total, int((time.perf_counter() - started) * rate) + 1)
        while sent < due:
            await send(sent)
            sent += 1
        await asyncio.sleep(0.01)


async def wait_until(check: Callable[[], bool], *, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {within:.0f}s waiting for {what}")
        await asyncio.sleep(0.05)


async def system(endpoints: Endpoints, args: argparse.Namespace) -> list[float]:
    topics = Topics(prefix=f"b{uuid.uuid4().hex[:8]}.")
    run = IsolatedRun(
        kafka_bootstrap=endpoints.kafka_bootstrap,
        kafka_admin=endpoints.kafka_admin,
        mongo_url=endpoints.mongo_url,
        topics=topics,
        log_dir=LOGS,
    )
    await run.create_topics()
    service = run.service(
        "notifications", AUTH_JWKS=IDS.jwks_json(), BATCH_MAX_RECORDS="500", LOG_LEVEL="WARNING"
    )
    producer = AIOKafkaProducer(
        bootstrap_servers=endpoints.kafka_bootstrap,
        acks="all",
        enable_idempotence=True,
        **endpoints.kafka_admin.aiokafka(),
    )
    await producer.start()
    await asyncio.to_thread(service.start)
    children = [new_nhs_number() for _ in range(args.children)]
    published: dict[str, float] = {}
    latencies: list[float] = []
    warm: set[str] = set()

    def on_event(body: dict[str, object]) -> None:
        now = time.perf_counter()
        key = str(body["id"])
        if key in published:
            latencies.append(now - published.pop(key))
        else:
            warm.add(key)

    async def publish(event: Envelope[ContactRecorded], *, track: bool) -> None:
        topic = topics.contact("school")
        if track:
            published[notification_id(f"contact:{entry_key('school', event.id)}", LEAD)] = time.perf_counter()
        await producer.send(topic, event.model_dump_json().encode(), key=event_key(event.subject))

    reader: asyncio.Task[None] | None = None
    try:
        for child in children:
            for opened in account_opened(child, lead_id=LEAD):
                await producer.send_and_wait(
                    topics.accounts_events, opened.model_dump_json().encode(), key=event_key(child)
                )
        reader = asyncio.create_task(
            read_stream(f"{service.url}/notifications/stream", IDS.headers(LEAD), on_event)
        )
        for child in children:
            await publish(contact_event(child, significant=True, summary="warm-up"), track=False)
        await wait_until(
            lambda: len(warm) >= len(children), within=120, what="a warm-up notification per child"
        )
        target = int(args.rate * args.duration)

        async def send(i: int) -> None:
            child = children[i % len(children)]
            await publish(contact_event(child, significant=True, summary=f"bench {i}"), track=True)

        folded = LOGS / f"notify-{run.id}.folded"
        spy = py_spy(service.pid, folded, args.duration + 5) if args.profile else None
        await paced(args.rate, args.duration, send)
        with contextlib.suppress(TimeoutError):
            await wait_until(lambda: len(latencies) >= target, within=60, what="every notification")
        print(f"system:   {len(latencies)}/{target} arrived")
        if spy is not None:
            await asyncio.to_thread(spy.wait, 60)
            print_profile(folded, name="notifications")
        return latencies
    finally:
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
                await reader
        await producer.stop()
        service.stop()


def baseline_app(endpoints: Endpoints, topic: str) -> Starlette:
    """aiokafka consume → SSE send, nothing in between: each record's value is sent as it is."""

    async def stream(request: Request) -> EventSourceResponse:
        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=endpoints.kafka_bootstrap,
            auto_offset_reset="latest",
            group_id=f"bench-raw-{uuid.uuid4().hex[:6]}",
            **endpoints.kafka_admin.aiokafka(),
        )
        await consumer.start()

        async def events() -> AsyncIterator[ServerSentEvent]:
            try:
                async for record in consumer:
                    yield ServerSentEvent(data=(record.value or b"").decode(), event="raw")
            finally:
                await consumer.stop()

        return EventSourceResponse(events())

    return Starlette(routes=[Route("/stream", stream)])


async def baseline(endpoints: Endpoints, args: argparse.Namespace) -> list[float]:
    topics = Topics(prefix=f"r{uuid.uuid4().hex[:8]}.")
    run = IsolatedRun(
        kafka_bootstrap=endpoints.kafka_bootstrap,
        kafka_admin=endpoints.kafka_admin,
        mongo_url=endpoints.mongo_url,
        topics=topics,
        log_dir=LOGS,
    )
    await run.create_topics()
    topic = topics.contact("school")
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(baseline_app(endpoints, topic), host="127.0.0.1", port=port, log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    producer = AIOKafkaProducer(
        bootstrap_servers=endpoints.kafka_bootstrap,
        acks="all",
        enable_idempotence=True,
        **endpoints.kafka_admin.aiokafka(),
    )
    await producer.start()
    published: dict[str, float] = {}
    latencies: list[float] = []
    warm: list[str] = []

    def on_event(body: dict[str, object]) -> None:
        key = str(body["i"])
        if key in published:
            latencies.append(time.perf_counter() - published.pop(key))
        else:
            warm.append(key)

    reader: asyncio.Task[None] | None = None
    try:
        await wait_until(lambda: server.started, within=30, what="the baseline server")
        reader = asyncio.create_task(read_stream(f"http://127.0.0.1:{port}/stream", {}, on_event))
        while not warm:  # the consumer joins its group and starts at the end: publish until it reads one
            await producer.send_and_wait(topic, json.dumps({"i": "warm"}).encode(), key=b"w")
            with contextlib.suppress(TimeoutError):
                await wait_until(lambda: bool(warm), within=2, what="a warm-up record")
        target = int(args.rate * args.duration)

        async def send(i: int) -> None:
            published[str(i)] = time.perf_counter()
            await producer.send(topic, json.dumps({"i": i}).encode(), key=str(i % args.children).encode())

        await paced(args.rate, args.duration, send)
        with contextlib.suppress(TimeoutError):
            await wait_until(lambda: len(latencies) >= target, within=60, what="every record")
        print(f"baseline: {len(latencies)}/{target} arrived")
        return latencies
    finally:
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
                await reader
        await producer.stop()
        server.should_exit = True
        await serving


async def main(args: argparse.Namespace) -> None:
    endpoints, _started = await asyncio.to_thread(ensure_infra)
    print(f"{args.rate} events/s for {args.duration:.0f} s, {args.children} children, one lead's live stream")
    measured = await system(endpoints, args)
    raw = await baseline(endpoints, args)
    print(f"system   (publish → notification on the stream): {percentiles(measured)}")
    print(f"baseline (aiokafka consume → SSE send):          {percentiles(raw)}")
    if measured:
        p99 = sorted(measured)[min(len(measured) - 1, int(0.99 * len(measured)))] * 1000
        print(f"target p99 < 250 ms: {'met' if p99 < 250 else 'NOT met'} ({p99:.0f} ms)")


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=int, default=500)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--children", type=int, default=20)
    parser.add_argument("--profile", action="store_true", help="sample notifications with py-spy")
    return parser.parse_args()


if __name__ == "__main__":
    LOGS.mkdir(parents=True, exist_ok=True)
    asyncio.run(main(parse()))
