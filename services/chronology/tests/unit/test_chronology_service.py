"""Chronology's use cases against the in-memory store: what a reader of the chronology sees, and why."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from chronology_fakes import FakeChronologyStore

from chronology import service
from chronology.models import HIDDEN_PROVIDER, ChronologyQuery, Lens
from shared.contact_feed import ForeignCorrection
from shared.contracts.accounts import (
    Actor,
    ChildFlagsChanged,
    JoinApproved,
    MemberLeft,
    MemberRemoved,
    account_event,
)
from shared.contracts.chronology import SIGNIFICANCE_MARKED
from shared.contracts.contacts import ContactRecorded
from shared.events import Envelope
from shared.policy import Principal
from shared.topics import Topics
from testsupport.events import (
    account_opened,
    child_contact,
    contact_event,
    entry_id_of,
    new_nhs_number,
    person,
)

LEAD = Lens(family_view=False, see_sensitive_providers=True, see_location=True)
MEMBER = Lens(family_view=False, see_sensitive_providers=False, see_location=True)
FAMILY = Lens(family_view=True, see_sensitive_providers=False, see_location=True)
LEAD_PERSON = Principal(subject="lead-1", name="Lee Lead", kind="practitioner", agency="socialcare")
TOPICS = Topics(prefix="unit.")
MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def store() -> FakeChronologyStore:
    return FakeChronologyStore()


async def record(store: FakeChronologyStore, *events: Envelope[ContactRecorded]) -> int:
    return await service.record_contacts(store=store, contacts=[child_contact(e) for e in events])


async def summaries(store: FakeChronologyStore, child: str, lens: Lens = LEAD, **query: object) -> list[str]:
    page = await service.read_chronology(
        store=store, child_id=child, lens=lens, query=ChronologyQuery.model_validate(query)
    )
    return [e.summary for e in page.entries]


async def test_an_agency_contact_becomes_an_entry_in_its_childs_chronology(
    store: FakeChronologyStore,
) -> None:
    child = new_nhs_number()
    event = contact_event(child, summary="Attended school nurse drop-in.")

    assert await record(store, event) == 1

    page = await service.read_chronology(store=store, child_id=child, lens=LEAD)
    (entry,) = page.entries
    assert (entry.id, entry.agency, entry.summary) == (
        entry_id_of(event),
        "school",
        "Attended school nurse drop-in.",
    )
    assert entry.author is not None and entry.author.name == "Ms Patel"
    assert entry.day == "2026-03-02" and entry.kind == "contact"
    assert page.total == 1 and page.next_cursor is None
    assert (await service.read_chronology(store=store, child_id=new_nhs_number(), lens=LEAD)).total == 0


async def test_the_same_event_delivered_twice_is_stored_once(store: FakeChronologyStore) -> None:
    child = new_nhs_number()
    event = contact_event(child)

    assert await record(store, event, event) == 1  # twice in one batch
    assert await record(store, event) == 0  # and redelivered in a later one

    assert (await service.read_chronology(store=store, child_id=child, lens=LEAD)).total == 1


async def test_entries_are_read_oldest_first_whatever_order_they_arrived_in(
    store: FakeChronologyStore,
) -> None:
    child = new_nhs_number()
    days = [MONDAY + timedelta(days=d) for d in (3, 0, 2, 1)]
    await record(store, *(contact_event(child, occurred_at=d, summary=d.strftime("%A")) for d in days))

    assert await summaries(store, child) == ["Monday", "Tuesday", "Wednesday", "Thursday"]


async def test_a_correction_supersedes_what_it_corrects_even_when_it_arrives_first(
    store: FakeChronologyStore,
) -> None:
    child = new_nhs_number()
    original = contact_event(child, summary="Home visit on the wrong day.")
    correction = contact_event(child, summary="Home visit: date corrected.", supersedes=original.id)

    await record(store, correction)
    await record(store, original)

    page = await service.read_chronology(store=store, child_id=child, lens=LEAD)
    entries = {e.id: e for e in page.entries}
    assert entries[entry_id_of(original)].superseded_by == entry_id_of(correction)
    assert entries[entry_id_of(correction)].supersedes == entry_id_of(original)
    assert entries[entry_id_of(correction)].superseded_by is None


async def test_a_correction_of_another_agencys_event_is_refused_and_the_original_stays(
    store: FakeChronologyStore,
) -> None:
    child = new_nhs_number()
    police = contact_event(child, agency="police", summary="Police attended.")
    await record(store, police)
    school = contact_event(child, summary="This did not happen.", supersedes=police.id)

    with pytest.raises(ForeignCorrection, match="police's, not school's"):
        await record(store, school)
    with pytest.raises(ForeignCorrection):  # nor when both arrive in one batch
        await record(store, contact_event(child, agency="health", event_id="h-1"), school)

    page = await service.read_chronology(store=store, child_id=child, lens=LEAD)
    assert [(e.id, e.superseded_by) for e in page.entries] == [(entry_id_of(police), None)]


async def test_a_correction_that_arrives_before_another_agencys_original_corrects_nothing(
    store: FakeChronologyStore,
) -> None:
    child = new_nhs_number()
    police = contact_event(child, agency="police", summary="Police attended.")
    school = contact_event(child, summary="Correction of an event not yet seen.", supersedes=police.id)
    await record(store, school)
    await record(store, police)

    page = await service.read_chronology(store=store, child_id=child, lens=LEAD)
    entries = {e.id: e for e in page.entries}
    assert entries[entry_id_of(police)].superseded_by is None
    assert entries[entry_id_of(school)].supersedes == f"school:{police.id}"


async def test_two_agencies_reusing_one_event_id_both_land_and_corrections_stay_within_each(
    store: FakeChronologyStore,
) -> None:
    child = new_nhs_number()
    school = contact_event(child, event_id="42", summary="School's event 42.")
    police = contact_event(child, agency="police", event_id="42", summary="Police's event 42.")
    fix = contact_event(child, agency="police", summary="Police correct their 42.", supersedes="42")
    assert await record(store, school, police, fix) == 3

    page = await service.read_chronology(store=store, child_id=child, lens=LEAD)
    corrected = {e.id: e.superseded_by for e in page.entries}
    assert corrected == {"school:42": None, "police:42": entry_id_of(fix), entry_id_of(fix): None}


async def test_the_same_kind_of_contact_from_two_agencies_on_one_day_is_grouped_as_a_likely_duplicate(
    store: FakeChronologyStore,
) -> None:
    child = new_nhs_number()
    original = contact_event(child, summary="Home visit on the wrong day.")
    correction = contact_event(child, summary="Home visit: date corrected.", supersedes=original.id)
    police = contact_event(child, agency="police", summary="Police attended the same home visit.")
    other_day = contact_event(child, agency="health", occurred_at=MONDAY + timedelta(days=1))
    await record(store, correction, original, police, other_day)

    page = await service.read_chronology(store=store, child_id=child, lens=LEAD)
    groups = {e.id: e.duplicate_group for e in page.entries}
    assert groups[entry_id_of(police)] == groups[entry_id_of(correction)] == "2026-03-02/home_visit"
    assert groups[entry_id_of(original)] is None  # a superseded entry is not a duplicate of anything
    assert groups[entry_id_of(other_day)] is None


async def test_two_contacts_from_one_agency_on_one_day_are_not_duplicates(store: FakeChronologyStore) -> None:
    child = new_nhs_number()
    await record(
        store, contact_event(child, summary="Morning visit."), contact_event(child, summary="Evening.")
    )

    page = await service.read_chronology(store=store, child_id=child, lens=LEAD)
    assert [e.duplicate_group for e in page.entries] == [None, None]


async def test_the_family_never_sees_restricted_entries(store: FakeChronologyStore) -> None:
    child = new_nhs_number()
    shared = contact_event(child, summary="Visited; the family was welcoming.")
    restricted = contact_event(
        child, summary="Police intelligence about an adult in the household.", visibility="restricted"
    )
    await record(store, shared, restricted)

    assert await summaries(store, child, FAMILY) == ["Visited; the family was welcoming."]
    assert (await service.read_chronology(store=store, child_id=child, lens=FAMILY)).total == 1
    assert (
        await service.read_entry(store=store, child_id=child, entry_id=entry_id_of(restricted), lens=FAMILY)
        is None
    )
    assert len(await summaries(store, child, LEAD)) == 2


async def test_the_family_does_not_learn_of_a_restricted_correction(store: FakeChronologyStore) -> None:
    child = new_nhs_number()
    original = contact_event(child, summary="Visited.")
    correction = contact_event(
        child, summary="Visit: restricted detail.", visibility="restricted", supersedes=original.id
    )
    await record(store, original, correction)

    (seen,) = (await service.read_chronology(store=store, child_id=child, lens=FAMILY)).entries
    assert seen.id == entry_id_of(original) and seen.superseded_by is None
    entry = await service.read_entry(store=store, child_id=child, entry_id=entry_id_of(original), lens=FAMILY)
    assert entry is not None and entry.superseded_by is None
    lead_view = await service.read_entry(
        store=store, child_id=child, entry_id=entry_id_of(original), lens=LEAD
    )
    assert lead_view is not None and lead_view.superseded_by == entry_id_of(correction)


async def test_a_sensitive_services_provider_is_hidden_unless_the_policy_allows(
    store: FakeChronologyStore,
) -> None:
    child = new_nhs_number()
    clinic = contact_event(child, agency="health", summary="Attended clinic.", sensitive_service=True)
    await record(store, clinic)

    (hidden,) = (await service.read_chronology(store=store, child_id=child, lens=MEMBER)).entries
    assert (hidden.agency, hidden.author, hidden.provider_hidden) == (HIDDEN_PROVIDER, None, True)
    assert hidden.summary == "Attended clinic."
    (shown,) = (await service.read_chronology(store=store, child_id=child, lens=LEAD)).entries
    assert shown.agency == "health" and shown.author is not None and not shown.provider_hidden
    # filtering by its agency must not say which agency the hidden provider is; its label finds it
    assert await summaries(store, child, MEMBER, agencies=["health"]) == []
    assert await summaries(store, child, MEMBER, agencies=[HIDDEN_PROVIDER]) == ["Attended clinic."]
    assert await summaries(store, child, LEAD, agencies=["health"]) == ["Attended clinic."]


async def test_the_leads_mark_is_stored_with_the_event_the_outbox_publishes(
    store: FakeChronologyStore,
) -> None:
    child = new_nhs_number()
    event = contact_event(child, summary="Disclosed worries about home at school.")
    await record(store, event)

    mark = await service.mark_significance(
        store=store,
        topics=TOPICS,
        child_id=child,
        entry_id=entry_id_of(event),
        significant=True,
        reason="First disclosure: a turning point.",
        by=LEAD_PERSON,
    )

    (stored,) = store.marks
    assert stored["pending"] is True and stored["outbox_topic"] == TOPICS.chronology_events
    published = json.loads(stored["outbox_event"])
    assert published["type"] == SIGNIFICANCE_MARKED and published["subject"] == child
    assert (
        published["data"]["entry_id"] == entry_id_of(event) and published["data"]["by_person_id"] == "lead-1"
    )
    assert mark.significant and mark.by_name == "Lee Lead"
    entry = await service.read_entry(store=store, child_id=child, entry_id=entry_id_of(event), lens=LEAD)
    assert entry is not None and entry.significant and entry.significance_marked


async def test_the_leads_latest_mark_wins_over_the_agencys_own_flag(store: FakeChronologyStore) -> None:
    child = new_nhs_number()
    flagged = contact_event(child, summary="Flagged by the school.", significant=True, occurred_at=MONDAY)
    plain = contact_event(child, summary="Not flagged.", occurred_at=MONDAY + timedelta(hours=1))
    await record(store, flagged, plain)

    async def mark(entry_id: str, significant: bool) -> None:
        await service.mark_significance(
            store=store,
            topics=TOPICS,
            child_id=child,
            entry_id=entry_id,
            significant=significant,
            reason="Reviewed at supervision.",
            by=LEAD_PERSON,
        )

    assert await summaries(store, child, significant_only=True) == ["Flagged by the school."]
    await mark(entry_id_of(flagged), False)
    await mark(entry_id_of(plain), False)
    await mark(entry_id_of(plain), True)
    assert await summaries(store, child, significant_only=True) == ["Not flagged."]
    page = await service.read_chronology(store=store, child_id=child, lens=LEAD)
    assert [(e.significant, e.significance_marked) for e in page.entries] == [(False, True), (True, True)]


async def test_marking_an_entry_of_another_child_is_refused_and_stores_nothing(
    store: FakeChronologyStore,
) -> None:
    child, other = new_nhs_number(), new_nhs_number()
    event = contact_event(child)
    await record(store, event)

    for child_id, entry_id in ((other, entry_id_of(event)), (child, "no-such-entry")):
        with pytest.raises(service.EntryNotFound):
            await service.mark_significance(
                store=store,
                topics=TOPICS,
                child_id=child_id,
                entry_id=entry_id,
                significant=True,
                reason="Looks important.",
                by=LEAD_PERSON,
            )
    assert store.marks == []


async def test_filters_narrow_the_chronology_by_date_agency_type_and_kind(store: FakeChronologyStore) -> None:
    child = new_nhs_number()
    await record(
        store,
        contact_event(child, summary="school visit", occurred_at=MONDAY),
        contact_event(
            child,
            summary="police callout",
            agency="police",
            contact_type="police_callout",
            occurred_at=MONDAY + timedelta(days=1),
        ),
        contact_event(
            child,
            summary="health appointment",
            agency="health",
            contact_type="health_appointment",
            occurred_at=MONDAY + timedelta(days=7),
        ),
    )
    await service.record_account_changes(
        store=store, events=account_opened(child, lead_id="lead-1", at=MONDAY)
    )

    assert await summaries(store, child, date_from=date(2026, 3, 3), date_to=date(2026, 3, 3)) == [
        "police callout"
    ]
    assert await summaries(store, child, date_to=date(2026, 3, 2), kinds=["contact"]) == ["school visit"]
    assert await summaries(store, child, agencies=["police", "health"]) == [
        "police callout",
        "health appointment",
    ]
    assert await summaries(store, child, contact_types=["health_appointment"]) == ["health appointment"]
    assert await summaries(store, child, kinds=["contact"]) == [
        "school visit",
        "police callout",
        "health appointment",
    ]
    (opened,) = await summaries(store, child, kinds=["account"])
    assert opened.startswith("Account opened; a Social worker")


async def test_pages_follow_the_cursor_to_the_last_entry(store: FakeChronologyStore) -> None:
    child = new_nhs_number()
    await record(
        store,
        *(contact_event(child, occurred_at=MONDAY + timedelta(hours=h), summary=f"#{h}") for h in range(5)),
    )

    seen: list[str] = []
    cursor: str | None = None
    for _ in range(5):
        page = await service.read_chronology(store=store, child_id=child, lens=LEAD, limit=2, cursor=cursor)
        assert page.total == 5
        seen += [e.summary for e in page.entries]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == ["#0", "#1", "#2", "#3", "#4"]


@pytest.mark.parametrize("cursor", ["abc", "-1", "2.5", "99999999999"])
async def test_a_cursor_this_service_did_not_issue_is_refused(
    store: FakeChronologyStore, cursor: str
) -> None:
    with pytest.raises(service.BadCursor):
        await service.read_chronology(store=store, child_id=new_nhs_number(), lens=LEAD, cursor=cursor)


async def test_team_changes_appear_on_the_timeline_once_each(store: FakeChronologyStore) -> None:
    child = new_nhs_number()
    opened = account_opened(child, lead_id="lead-1", family_id="parent-1", at=MONDAY)
    actor = Actor(person_id="lead-1", name="Test lead-1", kind="practitioner")
    joined = account_event(
        JoinApproved(
            child_id=child,
            seq=3,
            actor=actor,
            at=MONDAY + timedelta(hours=1),
            request_id="r1",
            person=person("teacher-1", agency="school"),
        )
    )

    assert (
        await service.record_account_changes(store=store, events=[*opened, joined]) == 2
    )  # not the family link
    assert await service.record_account_changes(store=store, events=[joined]) == 0

    page = await service.read_chronology(store=store, child_id=child, lens=FAMILY)
    assert [e.summary for e in page.entries] == [
        "Account opened; a Social worker (socialcare) is the lead professional.",
        "A Social worker (school) joined the team.",
    ]
    assert {(e.kind, e.agency) for e in page.entries} == {("account", "safeguarding account")}


async def test_the_family_sees_neither_removals_nor_shielding_on_the_timeline(
    store: FakeChronologyStore,
) -> None:
    child = new_nhs_number()
    actor = Actor(person_id="lead-1", name="Test lead-1", kind="practitioner")
    later = MONDAY + timedelta(days=1)
    changes = [
        account_event(
            MemberRemoved(child_id=child, seq=2, actor=actor, at=later, person_id="p2", reason="Moved on.")
        ),
        account_event(
            ChildFlagsChanged(
                child_id=child,
                seq=3,
                actor=actor,
                at=later + timedelta(hours=1),
                shielded=True,
                sensitive_service=False,
                reason="Moved to a refuge.",
            )
        ),
    ]
    await service.record_account_changes(
        store=store, events=[*account_opened(child, lead_id="lead-1", at=MONDAY), *changes]
    )

    assert await summaries(store, child, FAMILY) == [
        "Account opened; a Social worker (socialcare) is the lead professional."
    ]
    assert await summaries(store, child, LEAD, kinds=["account"]) == [
        "Account opened; a Social worker (socialcare) is the lead professional.",
        "A practitioner was removed from the team.",
        "The child's record is now shielded.",
    ]


async def test_a_sensitive_services_practitioner_is_never_named_on_the_timeline(
    store: FakeChronologyStore,
) -> None:
    child = new_nhs_number()
    actor = Actor(person_id="lead-1", name="Test lead-1", kind="practitioner")
    joined = account_event(
        JoinApproved(
            child_id=child,
            seq=2,
            actor=actor,
            at=MONDAY,
            request_id="r1",
            person=person("nurse-1", agency="health", sensitive=True),
        )
    )
    await service.record_account_changes(store=store, events=[joined])

    (summary,) = await summaries(store, child, LEAD)
    assert "nurse-1" not in summary and HIDDEN_PROVIDER in summary


async def test_a_hidden_providers_entry_ids_link_up_without_naming_its_agency(
    store: FakeChronologyStore,
) -> None:
    child = new_nhs_number()
    first = contact_event(child, agency="voluntary", summary="Drop-in.", sensitive_service=True)
    fixed = contact_event(
        child,
        agency="voluntary",
        summary="Drop-in (corrected).",
        sensitive_service=True,
        supersedes=first.id,
        occurred_at=MONDAY + timedelta(days=1),
    )
    await record(store, first, fixed)

    hidden = (await service.read_chronology(store=store, child_id=child, lens=MEMBER)).entries
    assert not any("voluntary" in json.dumps(e.model_dump(mode="json")) for e in hidden)
    assert hidden[0].superseded_by == hidden[1].id and hidden[1].supersedes == hidden[0].id
    shown = (await service.read_chronology(store=store, child_id=child, lens=LEAD)).entries
    assert [e.id for e in shown] == [entry_id_of(first), entry_id_of(fixed)]


async def test_the_family_sees_no_rag_rating_and_no_pointer_to_an_entry_it_cannot_see(
    store: FakeChronologyStore,
) -> None:
    child = new_nhs_number()
    restricted = contact_event(child, summary="Concern.", visibility="restricted", rag="red")
    withdrawn = contact_event(
        child, summary="Withdrawn.", supersedes=restricted.id, rag="green", occurred_at=MONDAY + timedelta(1)
    )
    shared = contact_event(child, summary="Visit.", occurred_at=MONDAY + timedelta(days=2))
    again = contact_event(
        child, summary="Visit (fixed).", supersedes=shared.id, occurred_at=MONDAY + timedelta(days=3)
    )
    await record(store, restricted, withdrawn, shared, again)

    family = (await service.read_chronology(store=store, child_id=child, lens=FAMILY)).entries
    assert [(e.summary, e.supersedes, e.rag) for e in family] == [
        ("Withdrawn.", None, None),
        ("Visit.", None, None),
        ("Visit (fixed).", entry_id_of(shared), None),
    ]
    lead = (await service.read_chronology(store=store, child_id=child, lens=LEAD)).entries
    assert [(e.supersedes, e.rag) for e in lead][:2] == [(None, "red"), (entry_id_of(restricted), "green")]


async def test_a_shielded_childs_authors_are_withheld_from_those_who_may_not_see_where_the_child_is(
    store: FakeChronologyStore,
) -> None:
    child = new_nhs_number()
    await record(store, contact_event(child, summary="Settling in."))
    await service.record_account_changes(store=store, events=account_opened(child, lead_id="lead-1"))
    unnamed = MEMBER.model_copy(update={"see_location": False})

    withheld = (await service.read_chronology(store=store, child_id=child, lens=unnamed)).entries
    assert [(e.author, e.author_withheld) for e in withheld] == [(None, True), (None, True)]
    named = (await service.read_chronology(store=store, child_id=child, lens=LEAD)).entries
    assert all(e.author is not None and not e.author_withheld for e in named)


async def test_an_account_change_by_a_sensitive_services_practitioner_hides_its_author_and_skips_the_family(
    store: FakeChronologyStore,
) -> None:
    child = new_nhs_number()
    nurse = Actor(person_id="nurse-1", name="Nina Nurse", kind="practitioner", sensitive_service=True)
    left = account_event(
        MemberLeft(child_id=child, seq=3, actor=nurse, at=MONDAY + timedelta(hours=2), person_id="nurse-1")
    )
    opened = account_opened(child, lead_id="lead-1", at=MONDAY)
    await service.record_account_changes(store=store, events=[*opened, left])

    assert await summaries(store, child, FAMILY) == [
        "Account opened; a Social worker (socialcare) is the lead professional."
    ]
    member = (await service.read_chronology(store=store, child_id=child, lens=MEMBER)).entries
    assert [(e.summary, e.author, e.provider_hidden) for e in member][-1] == (
        "A practitioner left the team.",
        None,
        True,
    )
    lead = (await service.read_chronology(store=store, child_id=child, lens=LEAD)).entries
    assert lead[-1].author is not None and lead[-1].author.name == "Nina Nurse"
    assert "Nina" not in json.dumps([e.model_dump(mode="json") for e in member])


async def test_the_total_is_counted_only_when_the_first_page_does_not_hold_every_match(
    store: FakeChronologyStore,
) -> None:
    child = new_nhs_number()
    await record(
        store,
        *(contact_event(child, occurred_at=MONDAY + timedelta(hours=h), summary=f"#{h}") for h in range(5)),
    )
    counted: list[str] = []
    count = store.count

    async def spy(**kwargs: object) -> int:
        counted.append(str(kwargs["child_id"]))
        return await count(**kwargs)  # type: ignore[arg-type]

    store.count = spy  # type: ignore[method-assign]

    async def total(limit: int, cursor: str | None = None) -> int:
        page = await service.read_chronology(
            store=store,
            child_id=child,
            lens=LEAD,
            query=ChronologyQuery(kinds=["contact"]),  # a filtered read; the whole one never counts
            limit=limit,
            cursor=cursor,
        )
        return page.total

    assert await total(10) == 5 and counted == []  # the page holds them all
    assert await total(5) == 5 and counted == [child]  # a full page might not
    assert await total(2, cursor="4") == 5 and len(counted) == 2


async def test_the_unfiltered_read_makes_one_read_of_the_childs_entries(store: FakeChronologyStore) -> None:
    child = new_nhs_number()
    original = contact_event(child, summary="Visit on the wrong day.", occurred_at=MONDAY)
    await record(
        store,
        original,
        contact_event(child, summary="Date corrected.", supersedes=original.id),
        contact_event(child),
    )
    calls: list[str] = []
    for name in ("timeline", "page", "count", "corrections_of", "family_visible_ids"):
        real = getattr(store, name)

        async def spy(*args: object, _name: str = name, _real: object = real, **kwargs: object) -> object:
            calls.append(_name)
            return await _real(*args, **kwargs)  # type: ignore[operator]

        setattr(store, name, spy)

    for lens in (LEAD, FAMILY):
        calls.clear()
        page = await service.read_chronology(store=store, child_id=child, lens=lens, limit=2)
        assert page.total == 3 and len(page.entries) == 2 and calls == ["timeline"]


async def test_the_whole_read_and_the_filtered_read_show_the_same_chronology(
    store: FakeChronologyStore,
) -> None:
    child = new_nhs_number()
    first = contact_event(child, summary="Visit on the wrong day.", occurred_at=MONDAY)
    hidden = contact_event(child, agency="police", summary="Intelligence.", visibility="restricted")
    events = [
        first,
        contact_event(child, summary="Correction one.", supersedes=first.id, occurred_at=MONDAY),
        contact_event(child, summary="Correction two.", supersedes=first.id, occurred_at=MONDAY),
        hidden,
        contact_event(
            child,
            agency="police",
            summary="Restricted correction.",
            visibility="restricted",
            supersedes=hidden.id,
        ),
        *(
            contact_event(child, occurred_at=MONDAY + timedelta(days=d), summary=f"Day {d}.")
            for d in range(1, 8)
        ),
        contact_event(child, agency="health", summary="Clinic.", occurred_at=MONDAY + timedelta(days=3)),
    ]
    await record(store, *events)
    await service.mark_significance(
        store=store,
        topics=TOPICS,
        child_id=child,
        entry_id=entry_id_of(events[6]),
        significant=True,
        reason="Turning point.",
        by=LEAD_PERSON,
    )
    # Admits every entry, but takes the filtered path.
    every_kind = ChronologyQuery(kinds=["contact", "account", "forum"])

    for lens in (LEAD, MEMBER, FAMILY):
        for limit, cursor in ((50, None), (3, None), (3, "3"), (4, "8"), (2, "20")):
            whole, matching = [
                await service.read_chronology(
                    store=store, child_id=child, lens=lens, query=query, limit=limit, cursor=cursor
                )
                for query in (None, every_kind)
            ]
            assert whole.entries == matching.entries, (lens, limit, cursor)
            assert (whole.total, whole.next_cursor) == (matching.total, matching.next_cursor)
