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


async def test_counts_group_by_agency_sensitivity_and_period_and_the_family_sees_no_restricted_contact(
    store: AnalyticsStore,
) -> None:
    child = new_nhs_number()
    await store.add_points(
        [
            point(child, occurred_at=MONDAY),
            point(child, occurred_at=MONDAY + timedelta(days=2)),
            point(child, agency="police", visibility="restricted", occurred_at=MONDAY),
            point(child, agency="health", sensitive_service=True, occurred_at=MONDAY),
            point(child, agency="health", occurred_at=MONDAY),
            point(new_nhs_number(), occurred_at=MONDAY),
        ]
    )

    weeks = await store.counts(child_id=child, granularity="week", family_view=False)
    days = await store.counts(child_id=child, granularity="day", family_view=False)
    family = await store.counts(child_id=child, granularity="week", family_view=True)

    assert sorted(weeks) == [
        ("health", False, "2026-03-02", 1),
        ("health", True, "2026-03-02", 1),
        ("police", False, "2026-03-02", 1),
        ("school", False, "2026-03-02", 2),
    ]
    assert sorted(days) == [
        ("health", False, "2026-03-02", 1),
        ("health", True, "2026-03-02", 1),
        ("police", False, "2026-03-02", 1),
        ("school", False, "2026-03-02", 1),
        ("school", False, "2026-03-04", 1),
    ]
    assert sorted(family) == [
        ("health", False, "2026-03-02", 1),
        ("health", True, "2026-03-02", 1),
        ("school", False, "2026-03-02", 2),
    ]
    assert await store.counts(child_id=new_nhs_number(), granularity="day", family_view=False) == []
