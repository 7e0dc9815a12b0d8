"""The local stack's reads use indexes, in PostgreSQL's own words (pg_stat_user_tables / pg_stat_user_indexes).

FerretDB 1.24 cannot use the B-tree indexes it creates; the dev stack adds a GIN twin per indexed field
(devstack.gin) and runs PostgreSQL with `plan_cache_mode = force_custom_plan`. Without the twins every read
is a sequential scan. Without the plan setting, FerretDB's cached prepared statements settle on a generic
plan while a collection is still small (as every collection is when its service starts), and that plan
scans the table for the rest of the connection's life: the warm-up below reproduces that.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from chronology.store import ENTRIES, ORDER, MongoChronologyStore
from devstack import tables
from devstack.infra import Endpoints
from devstack.paths import Ports
from shared import mongo

pytestmark = pytest.mark.integration

# PostgreSQL 15 backends report their counters at most once a second while busy, and within 10 s once idle.
STATS_IDLE_REPORT_S = 11.0
CHILDREN = 100
PER_CHILD = 30
READS = 20


def _entry(child_id: str, i: int) -> mongo.Document:
    at = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(hours=i)
    return {"_id": str(uuid.uuid4()), "child_id": child_id, "occurred_at": at, "recorded_at": at, "n": i}


def _twin(twins: dict[str, str], field: str) -> str:
    found = [name for name, definition in twins.items() if f"'{field}'" in definition]
    assert found, f"no GIN twin on {field!r} among {twins}"
    return found[0]


async def _wait_for_twins(ports: Ports, schema: str, table: str, fields: list[str]) -> dict[str, str]:
    deadline = time.monotonic() + 2.0
    while True:
        twins = await asyncio.to_thread(tables.twins, ports, schema, table)
        if all(any(f"'{f}'" in d for d in twins.values()) for f in fields) or time.monotonic() > deadline:
            return twins
        await asyncio.sleep(0.1)


async def test_a_childs_chronology_query_and_an_id_lookup_use_an_index(
    infra: Endpoints, mongo_db_name: str
) -> None:
    ports = Ports.from_env()
    client = mongo.connect(infra.mongo_url, app_name="test-indexes")
    db = client[mongo_db_name]
    entries = db[ENTRIES]
    try:
        await MongoChronologyStore(db).create_indexes()
        table = await asyncio.to_thread(tables.table_of, ports, mongo_db_name, ENTRIES)
        twins = await _wait_for_twins(ports, mongo_db_name, table, ["child_id", "_id"])
        child_twin, id_twin = _twin(twins, "child_id"), _twin(twins, "_id")

        kids = [f"child-{n:03d}" for n in range(CHILDREN)]
        first = [_entry(kids[0], i) for i in range(5)]
        await entries.insert_many(first)
        for _ in range(12):  # a service's first reads, on a near-empty collection
            await entries.find({"child_id": kids[0]}).sort(ORDER).limit(50).to_list()
            await entries.find_one({"_id": first[0]["_id"]})
        docs = [_entry(kids[i % CHILDREN], i) for i in range(CHILDREN * PER_CHILD)]
        await entries.insert_many(docs)

        await asyncio.sleep(STATS_IDLE_REPORT_S)
        before = await asyncio.to_thread(tables.scans, ports, mongo_db_name, table)
        for n in range(READS):
            page = await entries.find({"child_id": kids[n + 1]}).sort(ORDER).limit(50).to_list()
            assert len(page) == PER_CHILD
            assert await entries.find_one({"_id": docs[n]["_id"]}) is not None

        deadline = time.monotonic() + STATS_IDLE_REPORT_S + 4
        while True:
            after = await asyncio.to_thread(tables.scans, ports, mongo_db_name, table)
            child_scans = after.gin_scans[child_twin] - before.gin_scans[child_twin]
            id_scans = after.gin_scans[id_twin] - before.gin_scans[id_twin]
            seq_scans = after.seq_scan - before.seq_scan
            if (child_scans >= READS and id_scans >= READS) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        assert child_scans >= READS and id_scans >= READS and seq_scans == 0, (
            f"{READS} page queries and {READS} _id lookups on {table}: {child_scans} scans of the child_id "
            f"twin, {id_scans} of the _id twin, {seq_scans} sequential scans"
        )
    finally:
        await client.drop_database(mongo_db_name)
        await client.close()
