"""Notifications through the real stack: the service under uvicorn, consuming the real broker, storing in
the real MongoDB-wire server, mailing a real SMTP server on loopback (issue 13, "Done when"):

- every rule, from the topic its event arrives on to the person's inbox;
- one notification per person per event under redelivery and after a restart that replays every topic;
- the live stream's authorization: no token, another child's team, someone removed mid-stream; and its
  resumption with `Last-Event-ID`;
- the email content rule, retries with backoff, and a failure recorded.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from faststream.kafka import KafkaBroker
from notify_support import (
    IDS,
    Mailbox,
    Publisher,
    Service,
    reading,
    run_topics,
    serving,
    settings_for,
    smtp_server,
)

from devstack.infra import Endpoints
from notifications.models import Alert, Recipient
from shared import mongo
from shared.contracts.accounts import (
    Actor,
    BreakGlassUsed,
    JoinApproved,
    JoinRequested,
    MemberRemoved,
    PersonRef,
    account_event,
)
from shared.contracts.audit import AUDIT_RECORDED, AuditRecorded
from shared.contracts.chronology import SIGNIFICANCE_MARKED, SignificanceMarked
from shared.events import Envelope, make_event
from shared.policy import PrincipalKind
from testsupport.events import account_opened, contact_event, new_nhs_number
from testsupport.offline import eventually_async

pytestmark = pytest.mark.integration
LEAD, TEACHER, NURSE, STRANGER = "lead-1", "teacher-1", "nurse-1", "stranger-1"
ACTOR = Actor(person_id=LEAD, name="Test lead", kind="practitioner")
NOW = datetime.now(UTC)


def who(person_id: str, *, kind: PrincipalKind = "practitioner") -> PersonRef:
    return PersonRef(
        person_id=person_id,
        name=f"Test {person_id}",
        kind=kind,
        agency="socialcare",
        role="Social worker",
        contact=f"{person_id}@council.example",
    )


def opened(child: str) -> list[Envelope[Any]]:
    (registered,) = account_opened(child, lead_id=LEAD)
    return [registered.model_copy(update={"data": registered.data.model_copy(update={"lead": who(LEAD)})})]


def joined(child: str, person_id: str, seq: int) -> list[Envelope[Any]]:
    asked = JoinRequested(
        child_id=child,
        seq=seq,
        actor=ACTOR,
        at=NOW,
        request_id=f"r-{person_id}",
        person=who(person_id),
        reason="Works with the child",
    )
    approved = JoinApproved(
        child_id=child, seq=seq + 1, actor=ACTOR, at=NOW, request_id=f"r-{person_id}", person=who(person_id)
    )
    return [account_event(asked), account_event(approved)]


@pytest.fixture
async def mailbox() -> AsyncIterator[tuple[Mailbox, int]]:
    box = Mailbox(refuse=1)  # the first delivery fails: the sender must retry
    with smtp_server(box) as controller:
        yield box, controller.port


@pytest.fixture
async def publish(infra: Endpoints) -> AsyncIterator[Publisher]:
    broker = KafkaBroker(infra.kafka_bootstrap, security=infra.kafka_admin.faststream())
    await broker.start()
    try:
        yield Publisher(broker)
    finally:
        await broker.stop()


@pytest.fixture
async def service(infra: Endpoints, mailbox: tuple[Mailbox, int]) -> AsyncIterator[Service]:
    topics = await run_topics(infra)
    database = f"test_{uuid.uuid4().hex}"
    try:
        async with serving(settings_for(infra, topics, database, mailbox[1]), topics) as running:
            yield running
    finally:
        client = mongo.connect(infra.mongo_url, app_name="test")
        await client.drop_database(database)
        await client.close()


async def inbox(service: Service, person: str) -> dict[str, Any]:
    async with service.client() as http:
        response = await http.get("/notifications", headers=IDS.headers(person))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def kinds(service: Service, person: str) -> list[str]:
    return sorted(n["kind"] for n in (await inbox(service, person))["notifications"])


async def until_kinds(service: Service, person: str, wanted: list[str]) -> None:
    seen: list[list[str]] = []

    async def arrived() -> bool:
        seen.append(await kinds(service, person))
        return seen[-1] == sorted(wanted)

    try:
        await eventually_async(arrived, what=f"{person}'s inbox to hold {wanted}", within=45)
    except AssertionError as err:
        raise AssertionError(f"{err}; last seen {seen[-1:]}") from None


async def test_every_rule_reaches_the_right_people_and_email_carries_no_case_details(
    service: Service, publish: Publisher, mailbox: tuple[Mailbox, int]
) -> None:
    topics = service.topics
    child, quiet = new_nhs_number(), new_nhs_number()
    await publish(
        topics.accounts_events,
        *opened(child),
        *joined(child, TEACHER, 2),
        *opened(quiet),
        *joined(quiet, TEACHER, 2),
    )
    used = BreakGlassUsed(
        child_id=child,
        seq=4,
        actor=ACTOR,
        at=NOW,
        grant_id="g1",
        person=who(NURSE),
        reason="Missing overnight from the refuge",
        expires_at=NOW + timedelta(hours=2),
        lead_id=LEAD,
    )
    await publish(topics.accounts_events, account_event(used))
    await service.until_members(child, TEACHER)
    await service.until_members(quiet, TEACHER)
    day = datetime(2026, 3, 1, 9, tzinfo=UTC)
    for agency, n in (("school", 0), ("health", 2), ("police", 6)):
        await publish(
            topics.contact(agency),
            contact_event(
                child,
                agency=agency,
                significant=True,
                occurred_at=day + timedelta(days=n),
                summary="Disclosure at school",
            ),
        )
    for agency, n in (("school", 0), ("health", 2)):  # two agencies only: no pattern
        await publish(
            topics.contact(agency),
            contact_event(quiet, agency=agency, significant=True, occurred_at=day + timedelta(days=n)),
        )
    mark = SignificanceMarked(
        entry_id="school:e1",
        significant=True,
        reason="Third disclosure",
        by_person_id=LEAD,
        by_name="Lead",
        at=NOW,
    )
    await publish(
        topics.chronology_events,
        make_event(type=SIGNIFICANCE_MARKED, source="chronology", subject=child, data=mark),
    )
    view = AuditRecorded(
        actor_id=NURSE,
        actor_name=NURSE,
        actor_kind="practitioner",
        action="read_chronology",
        child_id=child,
        allowed=True,
        reason="break-glass",
        relationship="break_glass",
        service="chronology",
        at=NOW,
    )
    await publish(
        topics.audit_events, make_event(type=AUDIT_RECORDED, source="chronology", subject=child, data=view)
    )

    lead_gets = (
        ["join_requested"] * 2
        + ["break_glass_used", "record_opened", "cross_agency_pattern"]
        + ["significant_contact"] * 5
    )
    await until_kinds(service, LEAD, lead_gets)
    await until_kinds(service, TEACHER, ["significant_contact"] * 5 + ["significance_marked"])
    assert await kinds(service, NURSE) == []

    box, _ = mailbox

    async def mailed() -> bool:
        return any("Break-glass" in str(m["Subject"]) for m in box.messages)

    await eventually_async(mailed, what="the break-glass email to the lead", within=30)
    assert box.refused == 1  # the first attempt was refused and retried
    for message in box.messages:
        body = str(message.get_payload())
        for secret in ("Disclosure", "Missing", "refuge", NURSE, child, "school", "health", "police"):
            assert secret not in body, (secret, body)
    (lead_mail,) = [m for m in box.messages if "Break-glass" in str(m["Subject"])]
    assert lead_mail["To"] == f"{LEAD}@council.example" and "T.C." in str(lead_mail.get_payload())


async def test_redelivery_and_a_restart_that_replays_every_topic_make_no_second_notification(
    infra: Endpoints, service: Service, publish: Publisher, mailbox: tuple[Mailbox, int]
) -> None:
    topics = service.topics
    child = new_nhs_number()
    contact = contact_event(child, significant=True)
    await publish(topics.accounts_events, *opened(child), *joined(child, TEACHER, 2))
    await service.until_members(child, TEACHER)
    await publish(topics.contact("school"), contact, contact)
    await until_kinds(service, TEACHER, ["significant_contact"])
    before = await inbox(service, LEAD)

    # the same database, a new consumer group: every topic is read again from the start
    again = settings_for(infra, topics, service.database, mailbox[1])
    async with serving(again, topics) as restarted:
        await publish(topics.contact("school"), contact)
        marker = contact_event(child, significant=True, summary="after the restart")
        await publish(topics.contact("school"), marker)
        await until_kinds(restarted, TEACHER, ["significant_contact"] * 2)
        after = await inbox(restarted, LEAD)
    assert [n["id"] for n in after["notifications"]][1:] == [n["id"] for n in before["notifications"]]
    seqs = [n["seq"] for n in after["notifications"]]
    assert len(seqs) == 3 and seqs == sorted(set(seqs), reverse=True)  # redeliveries took no second place


async def test_the_live_stream_carries_only_what_the_person_may_see_when_it_is_sent(
    service: Service, publish: Publisher
) -> None:
    topics = service.topics
    child, other = new_nhs_number(), new_nhs_number()
    await publish(
        topics.accounts_events,
        *opened(child),
        *joined(child, TEACHER, 2),
        *opened(other),
        *joined(other, STRANGER, 2),
        *joined(other, TEACHER, 4),
    )
    await service.until_members(child, TEACHER)
    await service.until_members(other, STRANGER, TEACHER)

    async with service.client() as http:
        anonymous = await http.get("/notifications/stream")
    assert anonymous.status_code == 401

    async with reading(service, TEACHER) as teacher, reading(service, STRANGER) as stranger:
        assert teacher.status == 200
        await publish(topics.contact("school"), contact_event(child, significant=True))

        async def teacher_told() -> bool:
            return teacher.kinds() == ["significant_contact"]

        await eventually_async(teacher_told, what="the teacher's stream to carry the contact", within=30)
        assert stranger.kinds() == []  # another child's team: nothing (the teacher is on both)

        removed = MemberRemoved(
            child_id=child, seq=4, actor=ACTOR, at=NOW, person_id=TEACHER, reason="Moved school"
        )
        await publish(topics.accounts_events, account_event(removed))

        async def removal_applied() -> bool:
            return not (await inbox(service, TEACHER))["notifications"]

        await eventually_async(removal_applied, what="the removal to reach the access snapshot")
        # a notification written for the teacher after all (a rule that ran before the removal was applied)
        # is checked again when it is sent: it never goes out; one about a child they still work with does
        inboxes = service.app.state.inboxes
        for about in (child, other):
            alert = Alert(
                event_id=f"late-{about}",
                kind="significant_contact",
                child_id=about,
                child_initials="T.C.",
                at=NOW,
                recipients=(Recipient(TEACHER),),
                action="read_chronology",
            )
            await inboxes.deliver([alert])

        async def control_arrived() -> bool:
            return len(teacher.events) == 2

        await eventually_async(control_arrived, what="the notification about the other child", within=30)
        assert [e["child_id"] for e in teacher.events] == [child, other]


async def test_a_reconnecting_stream_resumes_after_its_last_event_without_loss_or_repetition(
    service: Service, publish: Publisher
) -> None:
    topics = service.topics
    child = new_nhs_number()
    await publish(topics.accounts_events, *opened(child), *joined(child, TEACHER, 2))
    await service.until_members(child, TEACHER)
    async with reading(service, TEACHER) as first:
        for n in range(3):
            await publish(topics.contact("school"), contact_event(child, significant=True, summary=f"c{n}"))

        async def three() -> bool:
            return len(first.ids) == 3

        await eventually_async(three, what="three events on the first stream", within=30)
    # while disconnected, two more arrive
    for n in range(2):
        await publish(topics.contact("school"), contact_event(child, significant=True, summary=f"d{n}"))
    await until_kinds(service, TEACHER, ["significant_contact"] * 5)

    async with reading(service, TEACHER, last_event_id=first.ids[-1]) as second:

        async def two() -> bool:
            return len(second.ids) == 2

        await eventually_async(two, what="the two missed events on the resumed stream", within=30)
        assert [int(i) for i in first.ids + second.ids] == [1, 2, 3, 4, 5]
