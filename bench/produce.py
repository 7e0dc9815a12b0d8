"""The benchmark's agency side, run as its own process: publishes N contact events as fast as it can.

Usage: python bench/produce.py BOOTSTRAP N CHILDREN FIRST [TOPIC_PREFIX]  (prints the seconds it took to publish)
The children's NHS numbers are the valid ones counting up from the nine digits FIRST.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid

from aiokafka import AIOKafkaProducer

from devstack.kafka import admin_credentials
from shared.identity import with_check_digit
from shared.topics import AGENCIES, Topics


def children(count: int, first: int) -> list[str]:
    out: list[str] = []
    n = first
    while len(out) < count:
        number = with_check_digit(str(n))
        n += 1
        if number:
            out.append(number)
    return out


def event(nhs: str, agency: str, i: int) -> bytes:
    return json.dumps(
        {
            "id": str(uuid.uuid4()),
            "type": "contact.recorded",
            "version": 1,
            "source": agency,
            "subject": nhs,
            "time": "2026-03-02T10:00:00Z",
            "data": {
                "agency": agency,
                "author": {"name": "Bench Practitioner", "role": "Practitioner"},
                "child": {"nhs_number": nhs},
                "occurred_at": f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}T09:{i % 60:02d}:00Z",
                "contact_type": "home_visit",
                "summary": f"Benchmark contact {i}: home visit, child seen and spoken to alone.",
                "impact": "neutral",
                "visibility": "family_visible",
            },
        }
    ).encode()


async def publish(bootstrap: str, total: int, child_count: int, first: int, prefix: str = "") -> float:
    topics = Topics(prefix)
    kids = children(child_count, first)
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        max_batch_size=256 * 1024,
        **admin_credentials().aiokafka(),  # the bench stands in for every agency at once
    )
    await producer.start()
    start = time.perf_counter()
    try:
        pending = []
        for i in range(total):
            agency = AGENCIES[i % len(AGENCIES)]
            nhs = kids[i % len(kids)]
            pending.append(
                await producer.send(topics.contact(agency), event(nhs, agency, i), key=nhs.encode())
            )
            if len(pending) >= 5000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return time.perf_counter() - start


if __name__ == "__main__":
    seconds = asyncio.run(
        publish(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), *sys.argv[5:6])
    )
    print(f"{seconds:.3f}")
