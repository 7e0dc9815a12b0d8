"""The scale history's fake store and its Mongo store answer alike (the Mongo one on the real FerretDB)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from analytics_fakes import FakeScaleStore

from analytics.scales.models import scale_document
from analytics.scales.store import MongoScaleStore, ScaleStore
from devstack.infra import Endpoints
from shared import mongo
from shared.contracts.forum import ScaleRecorded
from testsupport.events import new_nhs_number
from testsupport.forum_events import participant, scale_recorded

pytestmark = pytest.mark.integration
START = datetime(2026, 3, 2, 9, tzinfo=UTC)


@pytest.fixture(params=["fake", "mongo"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[ScaleStore]:
    if request.param == "fake":
        yield FakeScaleStore()
        return
    infra: Endpoints = request.getfixturevalue("infra")
    name: str = request.getfixturevalue("mongo_db_name")
    client = mongo.connect(infra.mongo_url, app_name="scale-contract")
    real = MongoScaleStore(client[name])
    await real.create_indexes()
    try:
        yield real
    finally:
        await client.drop_database(name)
        await client.close()


def doc(child: str, score: int, *, audience: str, days: int) -> mongo.Document:
    event = scale_recorded(
        child, score, by=participant("lead-1"), audience=audience, at=START + timedelta(days)
    )
    assert isinstance(event.data, ScaleRecorded)
    return scale_document(event.data)


async def test_scales_are_kept_once_oldest_first_and_the_familys_only_from_shared_threads(
    store: ScaleStore,
) -> None:
    child, other = new_nhs_number(), new_nhs_number()
    late, early = doc(child, 7, audience="family", days=2), doc(child, 3, audience="practitioners", days=0)
    added = await store.add_scales([late, early, doc(other, 5, audience="family", days=1), late])
    assert (added.inserted, added.duplicate_ids) == (3, [late["_id"]])

    team = await store.scales(child_id=child, family_view=False)
    assert [(d["score"], d["at"]) for d in team] == [(3, START), (7, START + timedelta(days=2))]
    assert [d["_id"] for d in await store.scales(child_id=child, family_view=True)] == [late["_id"]]
