"""The fake the unit tests use and the Mongo store answer alike: every test here runs against both, the Mongo
store on the real MongoDB-wire server (FerretDB), so a unit test passing on the fake means what it says."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from chronology_fakes import FakeChronologyStore

from chronology.models import ACCOUNT_SOURCE, HIDDEN_PROVIDER, ChronologyQuery, entry_document
from chronology.store import MARKS, ChronologyStore, MongoChronologyStore
from devstack.infra import Endpoints
from shared import mongo
from shared.contracts.chronology import SIGNIFICANCE_MARKED, SignificanceMarked
from shared.events import make_event
from shared.outbox import DocumentOutbox, Outbox, outbox_fields
from testsupport.events import contact_event, new_nhs_number
from testsupport.memory import MemoryOutbox

pytestmark = pytest.mark.integration
MONDAY = datetime(2026, 3, 2, 9, tzinfo=UTC)


@pytest.fixture(params=["fake", "mongo"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[ChronologyStore]:
    if request.param == "fake":
        yield FakeChronologyStore()
        return
    infra: Endpoints = request.getfixturevalue("infra")
    name: str = request.getfixturevalue("mongo_db_name")
    client = mongo.connect(infra.mongo_url, app_name="chronology-contract")
    real = MongoChronologyStore(client[name])
    await real.create_indexes()
    try:
        yield real
    finally:
        await client.drop_database(name)
        await client.close()


def doc(child: str, **fields: Any) -> mongo.Document:
    return entry_document(contact_event(child, **fields), child_id=child)


def mark(child: str, entry_id: str, significant: bool, at: datetime) -> mongo.Document:
    """A mark as `service.mark_significance` writes it, written at `at`."""
    data = SignificanceMarked(
        entry_id=entry_id,
        significant=significant,
        reason="Reviewed.",
        by_person_id="lead-1",
        by_name="Lee",
        at=at,
    )
    event = make_event(type=SIGNIFICANCE_MARKED, source="chronology", subject=child, data=data)
    return {
        "_id": event.id,
        "child_id": child,
        **data.model_dump(),
        **outbox_fields("t.chronology.events", event),
        "written_at": at,
    }


async def ids(store: ChronologyStore, child: str, *, family_only: bool = False, **query: object) -> list[str]:
    entries = await store.page(
        child_id=child, query=ChronologyQuery.model_validate(query), family_only=family_only, limit=100
    )
    return [e.summary for e in entries]


async def test_appending_is_idempotent_by_event_id(store: ChronologyStore) -> None:
    child = new_nhs_number()
    a, b = doc(child, summary="a"), doc(child, summary="b")

    first = await store.add_entries([a, a, b])
    again = await store.add_entries([b, doc(child, summary="c")])

    assert (first.inserted, first.duplicate_ids) == (2, [a["_id"]])
    assert (again.inserted, again.duplicate_ids) == (1, [b["_id"]])
    assert (await store.add_entries([])).inserted == 0


async def test_existing_ids_are_found_whoever_the_child_is(store: ChronologyStore) -> None:
    a, b = doc(new_nhs_number()), doc(new_nhs_number(), agency="police", event_id="same")
    await store.add_entries([a, b])

    found = await store.existing_ids([a["_id"], "police:same", "school:same", "nothing"])

    assert found == {a["_id"], "police:same"}
    assert await store.existing_ids([]) == set()


async def test_entries_come_in_time_order_with_skip_limit_and_total(store: ChronologyStore) -> None:
    child = new_nhs_number()
    await store.add_entries(
        [doc(child, summary=f"#{h}", occurred_at=MONDAY + timedelta(hours=h)) for h in (3, 1, 4, 0, 2)]
    )
    await store.add_entries([doc(new_nhs_number(), summary="another child")])

    entries = await store.page(child_id=child, query=ChronologyQuery(), family_only=False, limit=2, skip=1)
    total = await store.count(child_id=child, query=ChronologyQuery(), family_only=False)

    assert [e.summary for e in entries] == ["#1", "#2"] and total == 5
    assert entries[0].visibility == "family_visible" and entries[0].child_id == child


async def test_the_count_is_of_every_match_the_reader_may_see(store: ChronologyStore) -> None:
    child = new_nhs_number()
    await store.add_entries(
        [doc(child, summary=f"#{h}", occurred_at=MONDAY + timedelta(hours=h)) for h in range(5)]
    )
    await store.add_entries([doc(child, summary="restricted", visibility="restricted")])
    await store.add_entries([doc(new_nhs_number(), summary="another child")])

    def count(family_only: bool = False) -> Any:
        return store.count(child_id=child, query=ChronologyQuery(), family_only=family_only)

    assert (await count(), await count(family_only=True)) == (6, 5)
    assert (
        await store.page(child_id=child, query=ChronologyQuery(), family_only=False, limit=10, skip=6) == []
    )


async def test_filters_match_fields_stored_and_fields_left_out_alike(store: ChronologyStore) -> None:
    child = new_nhs_number()
    await store.add_entries(
        [
            doc(child, summary="shared", occurred_at=MONDAY),
            doc(child, summary="restricted", visibility="restricted", occurred_at=MONDAY + timedelta(days=1)),
            doc(
                child,
                summary="police",
                agency="police",
                contact_type="police_callout",
                occurred_at=MONDAY + timedelta(days=2),
            ),
            doc(child, summary="flagged", significant=True, occurred_at=MONDAY + timedelta(days=3)),
        ]
    )
    account = {**doc(child, summary="account", occurred_at=MONDAY + timedelta(days=4)), "kind": "account"}
    await store.add_entries([account])

    assert await ids(store, child, family_only=True) == ["shared", "police", "flagged", "account"]
    assert await ids(store, child, date_from=date(2026, 3, 3), date_to=date(2026, 3, 4)) == [
        "restricted",
        "police",
    ]
    assert await ids(store, child, agencies=["police"]) == ["police"]
    assert await ids(store, child, contact_types=["police_callout"]) == ["police"]
    assert await ids(store, child, kinds=["account"]) == ["account"]
    assert await ids(store, child, kinds=["contact"]) == ["shared", "restricted", "police", "flagged"]
    # Contact entries store no `kind` (it is the default); asking for contacts and account changes gets both,
    # and leaves out the third kind (forum entries), on both implementations.
    forum = {**doc(child, summary="forum", occurred_at=MONDAY + timedelta(days=5)), "kind": "forum"}
    await store.add_entries([forum])
    assert await ids(store, child, kinds=["contact", "account"]) == [
        "shared",
        "restricted",
        "police",
        "flagged",
        "account",
    ]
    assert await ids(store, child, kinds=["forum"]) == ["forum"]
    assert await ids(store, child, kinds=["contact"]) == ["shared", "restricted", "police", "flagged"]
    assert await ids(store, child, significant_only=True) == ["flagged"]


async def test_an_agency_filter_that_hides_sensitive_providers_answers_as_for_an_agency_without_entries(
    store: ChronologyStore,
) -> None:
    child = new_nhs_number()
    await store.add_entries(
        [
            doc(child, summary="clinic", agency="health", sensitive_service=True, occurred_at=MONDAY),
            doc(child, summary="visitor", agency="health", occurred_at=MONDAY + timedelta(hours=1)),
            doc(child, summary="school", occurred_at=MONDAY + timedelta(hours=2)),
        ]
    )
    by_clinic = {
        **doc(child, summary="nurse left", occurred_at=MONDAY + timedelta(hours=3)),
        "kind": "account",
        "agency": ACCOUNT_SOURCE,
        "sensitive_service": True,
    }
    await store.add_entries([by_clinic])

    async def hiding(agencies: list[str]) -> tuple[list[str], int]:
        query = ChronologyQuery(agencies=agencies, hide_sensitive_agencies=True)
        entries = await store.page(child_id=child, query=query, family_only=False, limit=100)
        return [e.summary for e in entries], await store.count(child_id=child, query=query, family_only=False)

    assert await hiding(["health"]) == (["visitor"], 1)
    assert await hiding([HIDDEN_PROVIDER]) == (["clinic"], 1)
    assert await hiding(["health", HIDDEN_PROVIDER]) == (["clinic", "visitor"], 2)
    assert await hiding(["housing"]) == ([], 0)
    assert await hiding([ACCOUNT_SOURCE]) == (["nurse left"], 1)  # shown under its source, so found by it
    assert await ids(store, child, agencies=["health"]) == ["clinic", "visitor"]  # for those who may see


async def test_family_visible_ids_are_the_childs_entries_the_family_may_see(store: ChronologyStore) -> None:
    child, other = new_nhs_number(), new_nhs_number()
    shared, restricted = doc(child), doc(child, visibility="restricted")
    elsewhere = doc(other)
    await store.add_entries([shared, restricted, elsewhere])

    found = await store.family_visible_ids(
        child_id=child, ids=[shared["_id"], restricted["_id"], elsewhere["_id"], "nothing"]
    )

    assert found == {shared["_id"]}


async def test_the_leads_latest_mark_overrides_the_agencys_flag(store: ChronologyStore) -> None:
    child = new_nhs_number()
    flagged = doc(child, summary="flagged", significant=True, occurred_at=MONDAY)
    plain = doc(child, summary="plain", occurred_at=MONDAY + timedelta(hours=1))
    await store.add_entries([flagged, plain])

    await store.add_mark(mark(child, flagged["_id"], False, MONDAY))
    await store.add_mark(mark(child, plain["_id"], False, MONDAY))
    await store.add_mark(mark(child, plain["_id"], True, MONDAY + timedelta(seconds=1)))

    assert await store.significance(child_id=child) == {flagged["_id"]: False, plain["_id"]: True}
    assert await store.significance(child_id=child, entry_ids=[plain["_id"]]) == {plain["_id"]: True}
    assert await store.significance(child_id=new_nhs_number()) == {}
    assert await ids(store, child, significant_only=True) == ["plain"]


async def test_corrections_are_found_for_the_entries_asked_about(store: ChronologyStore) -> None:
    child = new_nhs_number()
    original, hidden_original = doc(child, summary="original"), doc(child, summary="other")
    # `supersedes` names the agency's own event id; the stored entry keys it within the agency
    correction = doc(child, summary="correction", supersedes=original["_id"].removeprefix("school:"))
    restricted = doc(
        child,
        summary="restricted",
        visibility="restricted",
        supersedes=hidden_original["_id"].removeprefix("school:"),
    )
    await store.add_entries([correction, original, hidden_original, restricted])

    asked = [original["_id"], hidden_original["_id"]]
    assert await store.corrections_of(child_id=child, entry_ids=asked, family_only=False) == {
        original["_id"]: correction["_id"],
        hidden_original["_id"]: restricted["_id"],
    }
    assert await store.corrections_of(child_id=child, entry_ids=asked, family_only=True) == {
        original["_id"]: correction["_id"]
    }


async def test_a_timeline_holds_the_childs_entries_the_view_admits_in_time_order(
    store: ChronologyStore,
) -> None:
    child = new_nhs_number()
    original = doc(child, summary="original", occurred_at=MONDAY + timedelta(hours=2))
    correction = doc(
        child,
        summary="correction",
        occurred_at=MONDAY + timedelta(hours=3),
        supersedes=original["_id"].removeprefix("school:"),
    )
    restricted = doc(
        child,
        summary="restricted",
        visibility="restricted",
        occurred_at=MONDAY + timedelta(hours=1),
        supersedes=original["_id"].removeprefix("school:"),
    )
    earliest = doc(child, summary="earliest", occurred_at=MONDAY)
    await store.add_entries([correction, original, restricted, earliest, doc(new_nhs_number())])

    everything = await store.timeline(child_id=child, family_only=False)
    family = await store.timeline(child_id=child, family_only=True)

    assert len(everything) == 4 and len(family) == 3
    assert [e.summary for e in everything.page(skip=1, limit=2)] == ["restricted", "original"]
    assert [e.summary for e in family.page(skip=0, limit=10)] == ["earliest", "original", "correction"]
    # Of two corrections of one entry, the later on the timeline is the one shown.
    assert everything.corrections_of([original["_id"]]) == {original["_id"]: correction["_id"]}
    assert family.corrections_of([original["_id"], earliest["_id"]]) == {original["_id"]: correction["_id"]}
    assert family.holding([original["_id"], restricted["_id"], "nothing"]) == {original["_id"]}
    assert await store.page(
        child_id=child, query=ChronologyQuery(), family_only=False, limit=10
    ) == everything.page(skip=0, limit=10)


async def test_an_entry_is_found_only_under_its_own_child(store: ChronologyStore) -> None:
    child = new_nhs_number()
    entry = doc(child, summary="mine")
    await store.add_entries([entry])

    found = await store.entry(child_id=child, entry_id=entry["_id"])
    assert found is not None and found.summary == "mine" and found.id == entry["_id"]
    assert await store.entry(child_id=new_nhs_number(), entry_id=entry["_id"]) is None


@pytest.fixture(params=["fake", "mongo"])
async def marks(request: pytest.FixtureRequest) -> AsyncIterator[tuple[ChronologyStore, Outbox]]:
    """The lead's marks and the outbox the relay reads them through, as the composition root pairs them."""
    if request.param == "fake":
        fake = FakeChronologyStore()
        yield fake, MemoryOutbox(fake.marks)
        return
    infra: Endpoints = request.getfixturevalue("infra")
    name: str = request.getfixturevalue("mongo_db_name")
    client = mongo.connect(infra.mongo_url, app_name="chronology-contract")
    try:
        yield MongoChronologyStore(client[name]), DocumentOutbox(client[name][MARKS])
    finally:
        await client.drop_database(name)
        await client.close()


async def test_the_outbox_hands_out_pending_marks_oldest_first_until_published(
    marks: tuple[ChronologyStore, Outbox],
) -> None:
    store, outbox = marks
    child = new_nhs_number()
    later = mark(child, "e2", True, MONDAY + timedelta(seconds=5))
    earlier = mark(child, "e1", True, MONDAY)
    unreadable = {**mark(child, "e3", True, MONDAY + timedelta(seconds=9)), "outbox_event": "not json"}
    for doc in (later, earlier, unreadable):
        await store.add_mark(doc)

    pending = await outbox.pending(limit=10)
    assert [p.id for p in pending] == [earlier["_id"], later["_id"], unreadable["_id"]]
    assert [m.topic for m in pending[1].messages] == ["t.chronology.events"] and pending[1].child_id == child
    assert pending[2].unreadable is not None and pending[2].messages == ()
    await outbox.mark_published(pending[:1])
    await outbox.set_aside(pending[2], "unreadable")
    assert [p.id for p in await outbox.pending(limit=10)] == [later["_id"]]
    assert [p.id for p in await outbox.pending(limit=1)] == [later["_id"]]
