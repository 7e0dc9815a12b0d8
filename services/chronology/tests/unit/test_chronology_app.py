"""Chronology through its composition root, with no server: `create_app` with in-memory store, access
snapshots and audit sink; Kafka handlers driven by FastStream's in-memory broker, routes over ASGI."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from chronology_fakes import FakeChronologyStore
from faststream.kafka import KafkaBroker, TestKafkaBroker

from chronology.app import create_app
from chronology.models import HIDDEN_PROVIDER
from chronology.settings import ChronologySettings
from shared.audit import MemoryAuditSink
from shared.contracts.accounts import Actor, JoinApproved, account_event
from shared.contracts.audit import AuditRecorded
from shared.contracts.chronology import SIGNIFICANCE_MARKED
from shared.contracts.identity import ContactIdentified, contact_identified
from shared.events import Envelope
from shared.kafka.broker import publish_event
from shared.policy import PrincipalKind
from shared.service import Runtime
from shared.topics import Topics, dead_letter_topic
from testsupport.events import account_opened, contact_event, entry_id_of, new_nhs_number, person
from testsupport.identities import Identities
from testsupport.memory import MemoryAccessSnapshots, MemoryOutbox
from testsupport.offline import Sent, eventually, offline_settings, record_published, running_in_background

IDS = Identities()
LEAD, PARENT, TEACHER = "lead-1", "parent-1", "teacher-1"
TOPICS = Topics(prefix="unit.")


@dataclass
class Chronology:
    store: FakeChronologyStore
    snapshots: MemoryAccessSnapshots
    audit: MemoryAuditSink
    runtime: Runtime
    broker: KafkaBroker
    http: httpx.AsyncClient
    sent: list[Sent]

    async def publish(self, topic: str, *events: Envelope[Any]) -> None:
        for event in events:
            await publish_event(self.broker, topic, event)

    async def open_account(self, child: str) -> None:
        await self.publish(TOPICS.accounts_events, *account_opened(child, lead_id=LEAD, family_id=PARENT))

    async def get(self, path: str, *, who: str = LEAD, **params: str | int) -> httpx.Response:
        kind: PrincipalKind = "family" if who == PARENT else "practitioner"
        return await self.http.get(path, params=params, headers=IDS.headers(who, kind=kind))

    async def summaries(self, child: str, *, who: str = LEAD, **params: str | int) -> list[str]:
        response = await self.get(f"/children/{child}/chronology", who=who, **params)
        assert response.status_code == 200, response.text
        return [e["summary"] for e in response.json()["entries"]]

    def sent_to(self, topic: str) -> list[Sent]:
        return [s for s in self.sent if s.topic == topic]


@pytest.fixture
async def chronology() -> AsyncIterator[Chronology]:
    store, snapshots, audit = FakeChronologyStore(), MemoryAccessSnapshots(), MemoryAuditSink()
    settings = ChronologySettings(**offline_settings(IDS), topic_prefix=TOPICS.prefix)
    outbox = MemoryOutbox(store.marks, name="significance_marks")
    app = create_app(settings, store=store, snapshots=snapshots, audit_sink=audit, outbox=outbox)
    runtime: Runtime = app.state.runtime
    watched = [TOPICS.chronology_events, dead_letter_topic(TOPICS.contact("school"))]
    sent = record_published(runtime.broker, watched)
    async with (
        TestKafkaBroker(runtime.broker) as broker,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://chronology") as http,
    ):
        yield Chronology(store, snapshots, audit, runtime, broker, http, sent)


async def test_a_contact_on_an_agency_topic_reaches_the_childs_chronology(chronology: Chronology) -> None:
    child = new_nhs_number()
    await chronology.open_account(child)

    await chronology.publish(TOPICS.contact("school"), contact_event(child, summary="Attended drop-in."))

    assert await chronology.summaries(child, kind="contact") == ["Attended drop-in."]


async def test_the_same_event_published_twice_is_stored_once(chronology: Chronology) -> None:
    child = new_nhs_number()
    event = contact_event(child)

    await chronology.publish(TOPICS.contact("school"), event, event)

    assert list(chronology.store.entries) == [entry_id_of(event)]


async def test_a_batch_of_records_is_stored_together_and_its_bad_records_dead_lettered(
    chronology: Chronology,
) -> None:
    child = new_nhs_number()
    good = [contact_event(child, summary=f"contact {i}") for i in range(3)]
    police_on_school_topic = contact_event(child, agency="police")
    batch = [
        b'{"not json',
        *(e.model_dump_json().encode() for e in good),
        police_on_school_topic.model_dump_json().encode(),
    ]

    # One child's records as one batch (the in-memory broker): publish_batch's single partition is the one
    # their shared key would give them, so per-child order is what production has.
    await chronology.broker.publish_batch(*batch, topic=TOPICS.contact("school"))

    assert sorted(chronology.store.entries) == sorted(entry_id_of(e) for e in good)
    reasons = [s.headers["x-error"] for s in chronology.sent_to(dead_letter_topic(TOPICS.contact("school")))]
    assert len(reasons) == 2
    assert any("json" in r.lower() for r in reasons) and any("agency mismatch" in r for r in reasons)


async def test_a_contact_without_an_nhs_number_waits_until_accounts_identifies_the_child(
    chronology: Chronology,
) -> None:
    child = new_nhs_number()
    await chronology.open_account(child)
    unnamed = contact_event(
        "school-ref-42",
        summary="Known to the school by name only.",
        child={
            "given_name": "Sam",
            "family_name": "Test",
            "date_of_birth": "2016-05-04",
            "postcode": "AB1 2CD",
        },
    )

    await chronology.publish(TOPICS.contact("school"), unnamed)
    assert await chronology.summaries(child, kind="contact") == []
    assert entry_id_of(unnamed) not in chronology.store.entries  # not under the agency's reference either

    identified = contact_identified(ContactIdentified(child_id=child, how="exact_match", contact=unnamed))
    await chronology.publish(TOPICS.identity_events, identified, identified)
    assert await chronology.summaries(child, kind="contact") == ["Known to the school by name only."]


async def test_identified_contacts_of_two_agencies_with_one_event_id_both_land(
    chronology: Chronology,
) -> None:
    child = new_nhs_number()
    await chronology.open_account(child)
    by_name = {
        "given_name": "Sam",
        "family_name": "Test",
        "date_of_birth": "2016-05-04",
        "postcode": "AB1 2CD",
    }
    school = contact_event("ref-1", event_id="7", summary="School, by name.", child=by_name)
    health = contact_event("ref-2", agency="health", event_id="7", summary="Health, by name.", child=by_name)
    identified = [
        contact_identified(ContactIdentified(child_id=child, how="exact_match", contact=c))
        for c in (school, health)
    ]
    assert identified[0].id != identified[1].id

    await chronology.publish(TOPICS.identity_events, *identified)

    assert sorted(await chronology.summaries(child, kind="contact")) == [
        "Health, by name.",
        "School, by name.",
    ]


async def test_only_the_childs_team_reads_it_and_the_family_sees_only_family_visible_entries(
    chronology: Chronology,
) -> None:
    child = new_nhs_number()
    await chronology.open_account(child)
    await chronology.publish(
        TOPICS.contact("school"),
        contact_event(child, summary="Visited; the family was welcoming."),
        contact_event(child, summary="Police intelligence about an adult.", visibility="restricted"),
    )

    assert len(await chronology.summaries(child, kind="contact")) == 2
    assert await chronology.summaries(child, who=PARENT, kind="contact") == [
        "Visited; the family was welcoming."
    ]
    family_csv = (await chronology.get(f"/children/{child}/chronology/export.csv", who=PARENT)).text
    assert "welcoming" in family_csv and "Police intelligence" not in family_csv
    printable = (await chronology.get(f"/children/{child}/chronology/print", who=PARENT)).text
    assert "Family view" in printable and "Police intelligence" not in printable
    assert (await chronology.get(f"/children/{child}/chronology", who="someone-else")).status_code == 403
    assert (await chronology.get(f"/children/{new_nhs_number()}/chronology")).status_code == 403
    assert (await chronology.http.get(f"/children/{child}/chronology")).status_code == 401


async def test_every_read_is_audited_refusals_included(chronology: Chronology) -> None:
    child = new_nhs_number()
    await chronology.open_account(child)

    await chronology.get(f"/children/{child}/chronology")
    await chronology.get(f"/children/{child}/chronology", who="someone-else")

    audited = [(e.data.actor_id, e.data.action, e.data.allowed) for e in chronology.audit.events]
    assert audited == [(LEAD, "read_chronology", True), ("someone-else", "read_chronology", False)]
    assert all(e.subject == child and e.data.service == "chronology" for e in chronology.audit.events)


class BrokenAuditLog:
    async def send(self, event: Envelope[AuditRecorded]) -> None:
        raise ConnectionError("audit log unreachable")


async def test_a_read_that_cannot_be_audited_is_not_served() -> None:
    snapshots = MemoryAccessSnapshots()
    settings = ChronologySettings(**offline_settings(IDS), topic_prefix=TOPICS.prefix)
    store = FakeChronologyStore()
    app = create_app(
        settings,
        store=store,
        snapshots=snapshots,
        audit_sink=BrokenAuditLog(),
        outbox=MemoryOutbox(store.marks),
    )
    child = new_nhs_number()
    await snapshots.apply([e.data for e in account_opened(child, lead_id=LEAD)])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://chronology"
    ) as http:
        response = await http.get(f"/children/{child}/chronology", headers=IDS.headers(LEAD))
    assert response.status_code == 503


async def test_the_leads_significance_mark_is_published_by_the_outbox_relay(chronology: Chronology) -> None:
    child = new_nhs_number()
    await chronology.open_account(child)
    event = contact_event(child, summary="Disclosed worries about home at school.")
    await chronology.publish(TOPICS.contact("school"), event)
    path = f"/children/{child}/chronology/{entry_id_of(event)}/significance"
    body = {"significant": True, "reason": "First disclosure: a turning point in the case."}

    async with running_in_background(chronology.runtime, "significance outbox"):
        family = await chronology.http.put(path, json=body, headers=IDS.headers(PARENT, kind="family"))
        marked = await chronology.http.put(path, json=body, headers=IDS.headers(LEAD))
        await eventually(
            lambda: [m["pending"] for m in chronology.store.marks] == [False],
            what="the relay to publish the mark",
        )

    assert family.status_code == 403
    assert marked.status_code == 200, marked.text
    assert marked.json()["significant"] is True and marked.json()["significance_marked"] is True
    (published,) = chronology.sent_to(TOPICS.chronology_events)
    assert published.json()["type"] == SIGNIFICANCE_MARKED and published.json()["subject"] == child
    assert (
        published.json()["data"]["entry_id"] == entry_id_of(event)
        and published.json()["data"]["by_person_id"] == LEAD
    )
    only = await chronology.summaries(child, significant_only="true")
    assert only == ["Disclosed worries about home at school."]


async def test_marking_an_entry_that_is_not_there_is_404(chronology: Chronology) -> None:
    child = new_nhs_number()
    await chronology.open_account(child)

    response = await chronology.http.put(
        f"/children/{child}/chronology/no-such-entry/significance",
        json={"significant": True, "reason": "Looks important."},
        headers=IDS.headers(LEAD),
    )

    assert response.status_code == 404
    assert chronology.store.marks == []


async def test_filters_and_the_cursor_work_over_http(chronology: Chronology) -> None:
    child = new_nhs_number()
    await chronology.open_account(child)
    days = [datetime(2026, 3, d, 9, tzinfo=UTC) for d in (2, 3, 4)]
    await chronology.publish(
        TOPICS.contact("school"), *(contact_event(child, occurred_at=d, summary=f"{d:%d}") for d in days)
    )
    path = f"/children/{child}/chronology"

    first = (await chronology.get(path, kind="contact", limit=2)).json()
    rest = (await chronology.get(path, kind="contact", limit=2, cursor=first["next_cursor"])).json()
    assert [e["summary"] for e in first["entries"] + rest["entries"]] == ["02", "03", "04"]
    assert rest["next_cursor"] is None and first["total"] == 3
    assert await chronology.summaries(child, date_from="2026-03-03", date_to="2026-03-03") == ["03"]
    assert (await chronology.get(path, cursor="abc")).status_code == 400
    assert (await chronology.get(path, date_from="2026-03-04", date_to="2026-03-02")).status_code == 400


async def test_account_changes_reach_the_timeline_over_kafka(chronology: Chronology) -> None:
    child = new_nhs_number()
    await chronology.open_account(child)

    (entry,) = (await chronology.get(f"/children/{child}/chronology", who=PARENT, kind="account")).json()[
        "entries"
    ]
    assert entry["summary"].startswith("Account opened; a Social worker")
    assert entry["kind"] == "account" and entry["visibility"] == "family_visible"


async def test_a_team_member_sees_a_sensitive_services_entry_without_its_provider(
    chronology: Chronology,
) -> None:
    child = new_nhs_number()
    await chronology.open_account(child)
    actor = Actor(person_id=LEAD, name="Test lead-1", kind="practitioner")
    joined = JoinApproved(
        child_id=child, seq=3, actor=actor, at=datetime.now(UTC), request_id="r1", person=person(TEACHER)
    )
    await chronology.publish(TOPICS.accounts_events, account_event(joined))
    await chronology.publish(
        TOPICS.contact("health"), contact_event(child, agency="health", sensitive_service=True)
    )

    def providers(response: httpx.Response) -> Sequence[tuple[str, object]]:
        return [(e["agency"], e["author"]) for e in response.json()["entries"]]

    member = await chronology.get(f"/children/{child}/chronology", who=TEACHER, kind="contact")
    lead = await chronology.get(f"/children/{child}/chronology", kind="contact")
    assert providers(member) == [(HIDDEN_PROVIDER, None)]
    assert providers(lead) == [("health", {"name": "Ms Patel", "role": "Designated safeguarding lead"})]


async def test_a_control_character_in_a_request_is_refused_with_422_naming_the_field(
    chronology: Chronology,
) -> None:
    child = new_nhs_number()
    await chronology.open_account(child)
    event = contact_event(child)
    await chronology.publish(TOPICS.contact("school"), event)
    path = f"/children/{child}/chronology/{entry_id_of(event)}/significance"

    marked = await chronology.http.put(
        path, json={"significant": True, "reason": "Turning\x00 point."}, headers=IDS.headers(LEAD)
    )
    filtered = await chronology.get(f"/children/{child}/chronology", agency="school\x1b")

    for response, loc in ((marked, ["body", "reason"]), (filtered, ["query", "agency", 0])):
        assert response.status_code == 422, response.text
        (problem,) = response.json()["detail"]
        assert problem["loc"] == loc and "control character" in problem["msg"]
    assert chronology.store.marks == []


async def test_the_csv_export_quotes_every_cell_a_spreadsheet_would_run_as_a_formula(
    chronology: Chronology,
) -> None:
    child = new_nhs_number()
    await chronology.open_account(child)
    starts = ["=1+1", "+1", "-1", "@SUM(A1)", "\tcmd", "\r=cmd", "plain"]
    for i, start in enumerate(starts):
        await chronology.publish(
            TOPICS.contact("school"),
            contact_event(child, summary=start, occurred_at=datetime(2026, 3, 2, 9, i, tzinfo=UTC)),
        )

    export = await chronology.get(f"/children/{child}/chronology/export.csv")

    rows = [r for r in csv.DictReader(io.StringIO(export.text)) if r["type"] == "home visit"]
    assert [r["summary"] for r in rows] == [f"'{s}" for s in starts[:-1]] + ["plain"]
