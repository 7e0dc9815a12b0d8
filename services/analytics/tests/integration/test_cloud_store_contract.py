"""The cloud's fake store and its Mongo store answer alike (the Mongo one on the real FerretDB), and the pool
of YAKE worker processes really runs off the event loop."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from analytics_fakes import FakeCloudStore

from analytics.cloud.keywords import KeywordPool
from analytics.cloud.models import CloudState, Kept, keyword_document
from analytics.cloud.posts import REDACTED, latest_changes, post_document
from analytics.cloud.store import CloudStore, MongoCloudStore
from devstack.infra import Endpoints
from shared import mongo
from testsupport.events import child_contact, contact_event, new_nhs_number
from testsupport.forum_events import participant, post_added, post_redacted

pytestmark = pytest.mark.integration


@pytest.fixture(params=["fake", "mongo"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[CloudStore]:
    if request.param == "fake":
        yield FakeCloudStore()
        return
    infra: Endpoints = request.getfixturevalue("infra")
    name: str = request.getfixturevalue("mongo_db_name")
    client = mongo.connect(infra.mongo_url, app_name="cloud-contract")
    real = MongoCloudStore(client[name])
    await real.create_indexes()
    try:
        yield real
    finally:
        await client.drop_database(name)
        await client.close()


def document(child: str, terms: list[str]) -> mongo.Document:
    keywords = [(t, 0.1 * i) for i, t in enumerate(terms, 1)]
    return keyword_document(child_contact(contact_event(child)), keywords)


async def test_documents_are_kept_once_and_read_back_per_child(store: CloudStore) -> None:
    child, other = new_nhs_number(), new_nhs_number()
    a, b, c = document(child, ["home visit"]), document(child, ["school"]), document(other, ["police"])

    first = await store.add_documents([a, b, c, a])
    assert (first.inserted, first.duplicate_ids) == (3, [a["_id"]])
    docs = sorted(await store.documents_of([child]), key=lambda d: d["_id"])
    both = await store.documents_of([child, other])
    assert sorted(d["_id"] for d in both) == sorted([a["_id"], b["_id"], c["_id"]])
    assert [d["_id"] for d in docs] == sorted([a["_id"], b["_id"]])
    assert {d["_id"]: (d["terms"], d["visibility"]) for d in docs}[a["_id"]] == (
        ["home visit"],
        "family_visible",
    )
    assert await store.existing_ids([a["_id"], c["_id"], "school:nothing"]) == {a["_id"], c["_id"]}


async def test_clouds_are_saved_only_over_the_revision_they_were_counted_from(store: CloudStore) -> None:
    child = new_nhs_number()
    first = CloudState({"school:1": Kept(True, None, 0, False, ("home visit",), (0.1,))})
    assert await store.states([child]) == {child: CloudState()}
    assert await store.save_clouds(child, first, {"family": (1, [("home visit", 1)]), "full": (1, [])})

    (read,) = (await store.states([child])).values()
    assert read.revision == 1 and read.entries == first.entries
    assert await store.cloud(child, "family") == (1, [("home visit", 1)])
    # A writer that read before the save above is refused, and changes nothing.
    assert not await store.save_clouds(child, CloudState(), {"family": (0, []), "full": (0, [])})
    assert await store.cloud(child, "family") == (1, [("home visit", 1)])

    then = read.with_changes({"police:2": Kept(False, "school:1", 0, False, ("school",), (0.2,))})
    assert await store.save_clouds(child, then, {"family": (0, []), "full": (1, [("school", 1)])})
    assert (await store.states([child]))[child] == CloudState(then.entries, 2)
    assert await store.cloud(child, "full") == (1, [("school", 1)])
    assert await store.cloud(new_nhs_number(), "full") is None


async def test_the_worker_pool_extracts_while_the_event_loop_keeps_running() -> None:
    pool = KeywordPool(workers=1)
    await pool.start()
    try:
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        ticker = asyncio.create_task(tick())
        started = time.monotonic()
        [keywords] = await pool.extract(["Missed dental appointment again; letter sent to mum. " * 200])
        elapsed = time.monotonic() - started
        ticker.cancel()
        assert any(term == "dental appointment" for term, _ in keywords)
        # The loop ran all along: at least half the ticks it would have made in that time.
        assert ticks >= elapsed / 0.01 / 2, (ticks, elapsed)
    finally:
        await pool.stop()


async def test_a_posts_document_is_written_at_its_version_and_read_back_with_it(store: CloudStore) -> None:
    child = new_nhs_number()
    added = post_added(child, "Homework club helps.", by=participant("lead-1"), audience="practitioners")
    change = latest_changes([added])[0]
    await store.put_documents({change.key: post_document(change, [("homework club", 0.1)])})
    (doc,) = await store.documents_of([child])
    assert (doc["_id"], doc["version"]) == (change.key, 1)

    gone = latest_changes([post_redacted(added)])[0]
    await store.put_documents({gone.key: post_document(gone, [])})
    (doc,) = await store.documents_of([child])
    assert (doc["_id"], doc["terms"], doc["redacted"], doc["visibility"]) == (
        gone.key,
        [],
        True,
        "restricted",
    )
    assert (doc["kind"], doc["post_id"]) == ("post", added.data.post_id)  # type: ignore[attr-defined]
    assert doc["version"] == REDACTED
