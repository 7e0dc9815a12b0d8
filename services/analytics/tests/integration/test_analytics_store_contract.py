"""The fake the unit tests use and the Mongo store answer alike: every test here runs against both, the Mongo
store on the real MongoDB-wire server (FerretDB), so a unit test passing on the fake means what it says."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from analytics_fakes import FakeAnalyticsStore

from analytics.models import point_document
from analytics.store import AnalyticsStore, MongoAnalyticsStore
from devstack.infra import Endpoints
from shared import mongo
from testsupport.events import contact_event, new_nhs_number

pytestmark = pytest.mark.integration
MONDAY = datetime(2026, 3, 2, 9, tzinfo=UTC)


@pytest.fixture(params=["fake", "mongo"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[AnalyticsStore]:
    if request.param == "fake":
        yield FakeAnalyticsStore()
        return
    infra: Endpoints = request.getfixturevalue("infra")
    name: str = request.getfixturevalue("mongo_db_name")
    client = mongo.connect(infra.mongo_url, app_name="analytics-contract")
    real = MongoAnalyticsStore(client[name])
    await real.create_indexes()
    try:
        yield real
    finally:
        await client.drop_database(name)
        await client.close()


def point(child: str, **fields: Any) -> mongo.Document:
    return point_document(contact_event(child, **fields), child_id=child)


async def test_points_are_appended_once_per_event_id(store: AnalyticsStore) -> None:
    child = new_nhs_number()
    a, b = point(child), point(child)

    first = await store.add_points([a, a, b])
    again = await store.add_points([b])

    assert (first.inserted, first.duplicate_ids) == (2, [a["_id"]])
    assert (again.inserted, again.duplicate_ids) == (0, [b["_id"]])


async def test_existing_ids_are_found_whoever_the_child_is(store: AnalyticsStore) -> None:
    a, b = point(new_nhs_number()), point(new_nhs_number(), agency="police", event_id="same")
    await store.add_points([a, b])

    found = await store.existing_ids([a["_id"], "police:same", "school:same", "nothing"])

    assert found == {a["_id"], "police:same"}
    assert await store.existing_ids([]) == set()


async def test_a_childs_points_carry_what_the_graph_counts_and_the_family_gets_no_restricted_one(
    store: AnalyticsStore,
) -> None:
    child = new_nhs_number()
    original = contact_event(child, occurred_at=MONDAY)
    await store.add_points(
        [
            point_document(original, child_id=child),
            point(child, occurred_at=MONDAY + timedelta(days=2), supersedes=original.id),
            point(child, agency="police", visibility="restricted", occurred_at=MONDAY),
            point(child, agency="health", sensitive_service=True, occurred_at=MONDAY),
            point(new_nhs_number(), occurred_at=MONDAY),
        ]
    )

    def shape(docs: list[mongo.Document]) -> list[tuple[str, str, bool, str | None]]:
        return sorted(
            (d["agency"], d["day"], d.get("sensitive_service", False), d.get("supersedes")) for d in docs
        )

    assert shape(await store.points(child_id=child, family_view=False)) == [
        ("health", "2026-03-02", True, None),
        ("police", "2026-03-02", False, None),
        ("school", "2026-03-02", False, None),
        ("school", "2026-03-04", False, f"school:{original.id}"),
    ]
    family = await store.points(child_id=child, family_view=True)
    assert [d["agency"] for d in family if d["agency"] == "police"] == []
    assert len(family) == 3
    assert await store.points(child_id=new_nhs_number(), family_view=False) == []
