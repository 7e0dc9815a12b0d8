"""Analytics' use cases against the in-memory store: the contact graph as each reader may see it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from analytics_fakes import FakeAnalyticsStore

from analytics import service
from shared.contact_feed import ForeignCorrection
from shared.contracts.contacts import ContactRecorded
from shared.events import Envelope
from shared.policy import HIDDEN_PROVIDER
from testsupport.events import child_contact, contact_event, new_nhs_number

MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def store() -> FakeAnalyticsStore:
    return FakeAnalyticsStore()


async def record(store: FakeAnalyticsStore, *events: Envelope[ContactRecorded]) -> int:
    return await service.record_contacts(store=store, contacts=[child_contact(e) for e in events])


async def test_contacts_are_counted_per_agency_per_week_starting_on_monday(store: FakeAnalyticsStore) -> None:
    child = new_nhs_number()
    sunday_before = MONDAY - timedelta(days=1)
    await record(
        store,
        contact_event(child, occurred_at=sunday_before),
        contact_event(child, occurred_at=MONDAY),
        contact_event(child, occurred_at=MONDAY + timedelta(days=6, hours=14)),  # Sunday, same week
        contact_event(child, agency="police", occurred_at=MONDAY + timedelta(days=8)),
    )

    graph = await service.contact_graph(store=store, child_id=child, granularity="week")

    assert graph.total == 4
    assert [(s.agency, s.points) for s in graph.series] == [
        ("police", [("2026-03-09", 1)]),
        ("school", [("2026-02-23", 1), ("2026-03-02", 2)]),
    ]


async def test_contacts_are_counted_per_day_in_time_order(store: FakeAnalyticsStore) -> None:
    child = new_nhs_number()
    days = [MONDAY + timedelta(days=d) for d in (2, 0, 2)]
    await record(store, *(contact_event(child, occurred_at=d) for d in days))

    graph = await service.contact_graph(store=store, child_id=child, granularity="day")

    assert [(s.agency, s.points) for s in graph.series] == [
        ("school", [("2026-03-02", 1), ("2026-03-04", 2)])
    ]


async def test_the_same_event_delivered_twice_is_counted_once(store: FakeAnalyticsStore) -> None:
    child = new_nhs_number()
    event = contact_event(child)

    assert await record(store, event, event) == 1
    assert await record(store, event, contact_event(child)) == 1

    assert (await service.contact_graph(store=store, child_id=child, granularity="week")).total == 2


async def test_the_familys_graph_leaves_restricted_contacts_out(store: FakeAnalyticsStore) -> None:
    child = new_nhs_number()
    await record(
        store,
        contact_event(child, summary="Visited."),
        contact_event(child, agency="police", summary="Intelligence.", visibility="restricted"),
    )

    family = await service.contact_graph(store=store, child_id=child, granularity="week", family_view=True)
    team = await service.contact_graph(store=store, child_id=child, granularity="week")

    assert family.total == 1 and [s.agency for s in family.series] == ["school"]
    assert team.total == 2 and [s.agency for s in team.series] == ["police", "school"]


async def test_a_sensitive_service_contact_is_one_neutral_series_unless_the_policy_allows(
    store: FakeAnalyticsStore,
) -> None:
    child = new_nhs_number()
    clinic = contact_event(child, agency="health", summary="Attended clinic.", sensitive_service=True)
    visit = contact_event(child, agency="health", summary="Health visitor called.")
    await record(store, clinic)
    await record(store, visit)

    hidden = await service.contact_graph(store=store, child_id=child, granularity="day")
    named = await service.contact_graph(
        store=store, child_id=child, granularity="day", see_sensitive_providers=True
    )

    assert [(s.agency, s.points) for s in hidden.series] == [
        (HIDDEN_PROVIDER, [("2026-03-02", 1)]),
        ("health", [("2026-03-02", 1)]),
    ]
    assert [(s.agency, s.points) for s in named.series] == [("health", [("2026-03-02", 2)])]
    assert hidden.total == named.total == 2
    assert {"_id", "child_id", "agency", "occurred_at", "day", "week", "visibility"} <= set(
        store.points[f"health:{clinic.id}"]
    )


async def test_each_child_has_a_graph_of_their_own(store: FakeAnalyticsStore) -> None:
    child, other = new_nhs_number(), new_nhs_number()
    await record(store, contact_event(child), contact_event(other), contact_event(other))

    assert (await service.contact_graph(store=store, child_id=child, granularity="week")).total == 1
    empty = await service.contact_graph(store=store, child_id=new_nhs_number(), granularity="week")
    assert (empty.total, empty.series) == (0, [])


async def test_a_correction_of_another_agencys_event_is_not_counted(store: FakeAnalyticsStore) -> None:
    child = new_nhs_number()
    police = contact_event(child, agency="police")
    await record(store, police)

    with pytest.raises(ForeignCorrection, match="police's, not school's"):
        await record(store, contact_event(child, supersedes=police.id))

    graph = await service.contact_graph(store=store, child_id=child, granularity="day")
    assert graph.total == 1


async def test_two_agencies_reusing_one_event_id_are_both_counted(store: FakeAnalyticsStore) -> None:
    child = new_nhs_number()
    await record(
        store, contact_event(child, event_id="7"), contact_event(child, agency="police", event_id="7")
    )
    await record(store, contact_event(child, event_id="7"))  # a redelivery is still counted once

    graph = await service.contact_graph(store=store, child_id=child, granularity="day")
    assert graph.total == 2 and sorted(store.points) == ["police:7", "school:7"]
