"""Notifications through its composition root, with no server: `create_app` with an in-memory store and
access snapshots; Kafka handlers driven by FastStream's in-memory broker, routes over ASGI."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker
from notifications_fakes import FakeNotificationStore

from notifications.app import create_app
from notifications.models import Alert, Recipient
from notifications.service import Inboxes
from notifications.settings import NotificationsSettings
from shared.contracts.accounts import (
    Actor,
    BreakGlassUsed,
    JoinApproved,
    JoinRequested,
    MemberLeft,
    account_event,
)
from shared.contracts.audit import AUDIT_RECORDED, AuditRecorded
from shared.contracts.chronology import SIGNIFICANCE_MARKED, SignificanceMarked
from shared.events import Envelope, make_event
from shared.kafka.broker import publish_event
from shared.policy import PrincipalKind
from shared.service import Runtime
from shared.topics import Topics
from testsupport.events import account_opened, contact_event, new_nhs_number, person
from testsupport.identities import Identities
from testsupport.memory import MemoryAccessSnapshots
from testsupport.offline import offline_settings

IDS = Identities()
LEAD, PARENT, TEACHER, NURSE = "lead-1", "parent-1", "teacher-1", "nurse-1"
TOPICS = Topics(prefix="unit.")
LEAD_ACTOR = Actor(person_id=LEAD, name="Test lead", kind="practitioner")
NOW = datetime.now(UTC)


@dataclass
class Notify:
    store: FakeNotificationStore
    snapshots: MemoryAccessSnapshots
    inboxes: Inboxes
    broker: KafkaBroker
    http: httpx.AsyncClient

    async def publish(self, topic: str, *events: Envelope[Any]) -> None:
        for event in events:
            await publish_event(self.broker, topic, event)

    async def accounts(self, *events: Envelope[Any]) -> None:
        await self.publish(TOPICS.accounts_events, *events)

    def headers(self, who: str) -> dict[str, str]:
        kind: PrincipalKind = "family" if who == PARENT else "practitioner"
        return IDS.headers(who, kind=kind)

    async def inbox(self, who: str) -> dict[str, Any]:
        response = await self.http.get("/notifications", headers=self.headers(who))
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def kinds(self, who: str) -> list[str]:
        """The kinds in the person's inbox, oldest first, leaving out the team's own join requests."""
        shown = [n["kind"] for n in reversed((await self.inbox(who))["notifications"])]
        return shown if who != LEAD else [k for k in shown if k != "join_requested"]


@pytest.fixture
async def notify() -> AsyncIterator[Notify]:
    store, snapshots = FakeNotificationStore(), MemoryAccessSnapshots()
    settings = NotificationsSettings(**offline_settings(IDS), topic_prefix=TOPICS.prefix)
    app = create_app(settings, store=store, snapshots=snapshots)
    runtime: Runtime = app.state.runtime
    async with (
        TestKafkaBroker(runtime.broker) as broker,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://notifications") as http,
    ):
        yield Notify(store, snapshots, app.state.inboxes, broker, http)


async def _team(notify: Notify, child: str) -> None:
    """The child's account, with the teacher approved into the team (seq 1-4: parent linked at 2)."""
    await notify.accounts(*account_opened(child, lead_id=LEAD, family_id=PARENT))
    await notify.accounts(*_join(child, TEACHER, seq=3))


def _join(child: str, who: str, *, seq: int, approve: bool = True) -> list[Envelope[Any]]:
    asked = JoinRequested(
        child_id=child,
        seq=seq,
        actor=LEAD_ACTOR,
        at=NOW,
        request_id=f"r-{who}",
        person=person(who),
        reason="DSL at school",
    )
    if not approve:
        return [account_event(asked)]
    approved = JoinApproved(
        child_id=child, seq=seq + 1, actor=LEAD_ACTOR, at=NOW, request_id=f"r-{who}", person=person(who)
    )
    return [account_event(asked), account_event(approved)]


def _view(child: str, who: str) -> Envelope[AuditRecorded]:
    data = AuditRecorded(
        actor_id=who,
        actor_name=who,
        actor_kind="practitioner",
        action="read_chronology",
        child_id=child,
        allowed=True,
        reason="member",
        relationship="member",
        service="chronology",
        at=NOW,
    )
    return make_event(type=AUDIT_RECORDED, source="chronology", subject=child, data=data)


async def test_a_join_request_reaches_whoever_can_approve_it_and_not_the_requester(notify: Notify) -> None:
    child = new_nhs_number()
    await _team(notify, child)
    await notify.accounts(*_join(child, NURSE, seq=5, approve=False))

    kinds = [n["kind"] for n in (await notify.inbox(LEAD))["notifications"]]
    assert kinds == ["join_requested", "join_requested"]  # the teacher's, the nurse's
    assert await notify.kinds(NURSE) == []
    assert await notify.kinds(TEACHER) == []  # a member who is not a manager cannot approve: not told


async def test_break_glass_alerts_the_lead_at_once_on_every_channel(notify: Notify) -> None:
    child = new_nhs_number()
    lead = person(LEAD).model_copy(update={"contact": "lead@council.example"})
    (opened,) = account_opened(child, lead_id=LEAD)
    await notify.accounts(opened.model_copy(update={"data": opened.data.model_copy(update={"lead": lead})}))
    used = BreakGlassUsed(
        child_id=child,
        seq=2,
        actor=LEAD_ACTOR,
        at=NOW,
        grant_id="g1",
        person=person(NURSE),
        reason="Child missing overnight",
        expires_at=NOW + timedelta(hours=4),
        lead_id=LEAD,
    )
    await notify.accounts(account_event(used))

    (note,) = (await notify.inbox(LEAD))["notifications"]
    assert note["kind"] == "break_glass_used" and note["urgent"] is True
    (email,) = notify.store.emails.values()
    assert email["to"] == "lead@council.example" and "T.C." in email["body"]
    assert NURSE not in email["body"] and "missing" not in email["body"]  # no case details in an email


async def test_a_significant_contact_reaches_the_team_and_an_ordinary_one_nobody(notify: Notify) -> None:
    child = new_nhs_number()
    await _team(notify, child)

    await notify.publish(TOPICS.contact("school"), contact_event(child, summary="Routine visit."))
    await notify.publish(
        TOPICS.contact("school"), contact_event(child, significant=True, summary="Disclosure.")
    )

    assert await notify.kinds(LEAD) == ["significant_contact"]
    assert "significant_contact" in await notify.kinds(TEACHER)
    assert await notify.kinds(PARENT) == []  # the family is not told through a team rule
    texts = str(await notify.inbox(TEACHER))
    assert "Disclosure" not in texts and "school" not in texts  # the kind and the initials, nothing more


async def test_an_entry_marked_significant_reaches_the_team_but_not_who_marked_it(notify: Notify) -> None:
    child = new_nhs_number()
    await _team(notify, child)
    mark = SignificanceMarked(
        entry_id="school:e1",
        significant=True,
        reason="Pattern of absence",
        by_person_id=LEAD,
        by_name="Lead",
        at=NOW,
    )
    await notify.publish(
        TOPICS.chronology_events,
        make_event(type=SIGNIFICANCE_MARKED, source="chronology", subject=child, data=mark),
    )

    assert "significance_marked" in await notify.kinds(TEACHER)
    assert "significance_marked" not in await notify.kinds(LEAD)


async def test_a_record_opened_by_someone_new_tells_the_lead_once(notify: Notify) -> None:
    child = new_nhs_number()
    await _team(notify, child)

    await notify.publish(
        TOPICS.audit_events, _view(child, TEACHER), _view(child, TEACHER), _view(child, LEAD)
    )

    assert await notify.kinds(LEAD) == ["record_opened"]


async def test_the_cross_agency_pattern_fires_once_for_three_agencies_and_not_for_two(notify: Notify) -> None:
    child, other = new_nhs_number(), new_nhs_number()
    await _team(notify, child)
    await _team(notify, other)
    day = datetime(2026, 3, 1, 9, tzinfo=UTC)
    for agency, n in (("school", 0), ("health", 3), ("school", 5)):
        await notify.publish(
            TOPICS.contact(agency),
            contact_event(other, agency=agency, significant=True, occurred_at=day + timedelta(days=n)),
        )
    for agency, n in (("school", 0), ("health", 3), ("police", 9), ("housing", 10)):
        await notify.publish(
            TOPICS.contact(agency),
            contact_event(child, agency=agency, significant=True, occurred_at=day + timedelta(days=n)),
        )

    patterns = [d for d in notify.store.of(LEAD) if d["kind"] == "cross_agency_pattern"]
    assert [d["child_id"] for d in patterns] == [child]
    assert "cross_agency_pattern" not in [d["kind"] for d in notify.store.of(TEACHER)]  # lead and managers


async def test_the_same_event_delivered_twice_makes_one_notification_per_person(notify: Notify) -> None:
    child = new_nhs_number()
    await _team(notify, child)
    event = contact_event(child, significant=True)

    await notify.publish(TOPICS.contact("school"), event, event)
    await notify.publish(TOPICS.contact("school"), event)

    assert [d["kind"] for d in notify.store.of(TEACHER)] == ["significant_contact"]
    assert [d["seq"] for d in notify.store.of(LEAD)] == [1, 2]  # join request, then the contact: no gap


async def test_someone_who_left_the_team_sees_nothing_more_about_the_child(notify: Notify) -> None:
    child = new_nhs_number()
    await _team(notify, child)
    await notify.publish(TOPICS.contact("school"), contact_event(child, significant=True))
    assert await notify.kinds(TEACHER) == ["significant_contact"]

    await notify.accounts(
        account_event(MemberLeft(child_id=child, seq=5, actor=LEAD_ACTOR, at=NOW, person_id=TEACHER))
    )

    assert await notify.kinds(TEACHER) == []
    assert (await notify.http.get("/notifications/unread", headers=notify.headers(TEACHER))).json() == {
        "unread": 0
    }


async def test_the_family_never_receives_a_restricted_notification(notify: Notify) -> None:
    child = new_nhs_number()
    await _team(notify, child)
    family = (Recipient(PARENT, kind="family"),)
    for n, restricted in enumerate((True, False)):
        alert = Alert(
            event_id=f"e{n}",
            kind="significant_contact",
            child_id=child,
            child_initials="T.C.",
            at=NOW,
            recipients=family,
            action="read_chronology",
            restricted=restricted,
        )
        await notify.inboxes.deliver([alert])

    assert len(notify.store.of(PARENT)) == 2
    assert await notify.kinds(PARENT) == ["significant_contact"]
    assert len((await notify.inbox(PARENT))["notifications"]) == 1


async def test_unread_counts_mark_read_and_mark_all_read_touch_only_ones_own_inbox(notify: Notify) -> None:
    child = new_nhs_number()
    await _team(notify, child)
    for _ in range(3):
        await notify.publish(TOPICS.contact("school"), contact_event(child, significant=True))
    lead_before = (await notify.inbox(LEAD))["unread"]
    first, *_ = (await notify.inbox(TEACHER))["notifications"]

    other = await notify.http.post(f"/notifications/{first['id']}/read", headers=notify.headers(LEAD))
    assert other.json() == {"marked": 0}  # the teacher's notification, marked by the lead: untouched
    one = await notify.http.post(f"/notifications/{first['id']}/read", headers=notify.headers(TEACHER))
    assert one.json() == {"marked": 1}
    assert (await notify.inbox(TEACHER))["unread"] == 2
    everything = await notify.http.post("/notifications/read-all", headers=notify.headers(TEACHER))
    assert everything.json() == {"marked": 2}
    assert (await notify.inbox(TEACHER))["unread"] == 0
    assert (await notify.inbox(LEAD))["unread"] == lead_before


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/notifications"),
        ("GET", "/notifications/unread"),
        ("POST", "/notifications/read-all"),
        ("GET", "/notifications/stream"),
        ("GET", "/preferences"),
        ("PUT", "/preferences"),
    ],
)
async def test_every_route_refuses_a_caller_without_a_token(notify: Notify, method: str, path: str) -> None:
    assert (await notify.http.request(method, path)).status_code == 401


async def test_preferences_start_from_the_roles_defaults_and_turn_a_kind_off(notify: Notify) -> None:
    child = new_nhs_number()
    await _team(notify, child)
    defaults = (await notify.http.get("/preferences", headers=notify.headers(TEACHER))).json()
    assert defaults["customised"] is False and "email" in defaults["channels"]["break_glass_used"]
    family = (await notify.http.get("/preferences", headers=notify.headers(PARENT))).json()
    assert family["channels"]["significant_contact"] == ["in_app"]

    chosen = {**defaults["channels"], "significant_contact": []}
    saved = await notify.http.put("/preferences", json={"channels": chosen}, headers=notify.headers(TEACHER))
    assert saved.status_code == 200 and saved.json()["customised"] is True
    await notify.publish(TOPICS.contact("school"), contact_event(child, significant=True))
    assert await notify.kinds(TEACHER) == []
