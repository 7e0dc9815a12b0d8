"""Accounts' store and outbox relay against the real MongoDB-wire server: commits are the outbox, nothing is
published twice in the wrong order, a projection that fell behind is caught up."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from pymongo.asynchronous.database import AsyncDatabase

from accounts.audit.store import AuditStore
from accounts.children import service as children
from accounts.children.store import ChildStore
from accounts.context import Accounts
from accounts.identity import service as identity
from accounts.identity.outbox import ResolutionOutbox
from accounts.identity.store import ContactMatchStore, MatchStore
from accounts.outbox import CommitOutbox, ProjectionRefresher
from accounts.people.models import Person
from accounts.people.sessions import SessionStore
from accounts.people.store import PeopleStore
from accounts.teams import service as teams
from devstack.infra import Endpoints
from shared import mongo
from shared.audit import AuditTrail, MemoryAuditSink
from shared.contracts.contacts import CONTACT_RECORDED, Author, ChildIdentifiers, ContactRecorded
from shared.contracts.identity import ContactIdentified, decode_identity_event
from shared.events import Envelope, make_event, utc_now
from shared.outbox import OutboxMessage, OutboxMetrics, OutboxRelay
from shared.policy import Principal
from testsupport.accounts import new_child_details

pytestmark = pytest.mark.integration

LEAD = Person(person_id="p-lead", username="lead", name="Lead", kind="practitioner", agency="socialcare")
TEACHER = Person(
    person_id="p-teacher", username="teacher", name="Teacher", kind="practitioner", agency="school"
)


@dataclass(frozen=True)
class PublishedEvent:
    topic: str
    key: str
    type: str
    seq: int


class Published:
    def __init__(self) -> None:
        self.entries: list[PublishedEvent] = []
        self.fail = False

    async def __call__(self, message: OutboxMessage) -> None:
        if self.fail:
            raise ConnectionError("broker away")
        event = json.loads(message.value)
        self.entries.append(
            PublishedEvent(message.topic, message.key.decode(), event["type"], event["data"]["seq"])
        )


def _relay(store: ChildStore, published: Published, **kwargs: Any) -> OutboxRelay:
    return OutboxRelay(CommitOutbox(store), published, OutboxMetrics.create(CollectorRegistry()), **kwargs)


@pytest.fixture
async def db(infra: Endpoints) -> AsyncIterator[AsyncDatabase[mongo.Document]]:
    client = mongo.connect(infra.mongo_url, app_name="test")
    name = f"test_{uuid.uuid4().hex}"
    try:
        yield client[name]
    finally:
        await client.drop_database(name)
        await client.close()


async def _ctx(db: AsyncDatabase[mongo.Document]) -> Accounts:
    store = ChildStore(db)
    await store.create_indexes()
    people = PeopleStore(db)
    await people.add_people([LEAD, TEACHER])

    async def publish_identified(event: Envelope[ContactIdentified]) -> None:
        raise AssertionError("no contact is identified here")

    return Accounts(
        store=store,
        people=people,
        matches=MatchStore(db),
        contacts=ContactMatchStore(db),
        audit_store=AuditStore(db),
        trail=AuditTrail(MemoryAuditSink(), service="accounts"),
        notify_outbox=lambda: None,  # no relay running: as if the process died after the commit
        publish_identified=publish_identified,
        break_glass_for=timedelta(hours=4),
        sessions=SessionStore(db),
    )


async def test_committed_changes_are_published_in_order_once_the_relay_runs(
    db: AsyncDatabase[mongo.Document],
) -> None:
    ctx = await _ctx(db)
    opened = await children.register_child(
        ctx=ctx,
        principal=LEAD.principal(),
        details=new_child_details(),
        shielded=False,
        sensitive_service=False,
    )
    assert opened.child is not None
    child_id = opened.child.child_id
    request = await teams.request_join(
        ctx=ctx, principal=TEACHER.principal(), child_id=child_id, reason="DSL"
    )
    await teams.approve_join(
        ctx=ctx, principal=LEAD.principal(), child_id=child_id, request_id=request.request_id, reason=None
    )
    published = Published()
    relay = _relay(ctx.store, published)

    published.fail = True
    with pytest.raises(ConnectionError):
        await relay.run_once()
    assert len(await ctx.store.unpublished()) == 3  # kept for the next attempt

    published.fail = False
    assert await relay.run_once() == 3  # commits, carrying four events
    assert [(e.type, e.seq) for e in published.entries] == [
        ("child.registered", 1),
        ("join.requested", 2),
        ("join.approved", 3),
        ("access_decision.recorded", 4),
    ]
    assert all(e.key == child_id and e.topic == "accounts.events" for e in published.entries)
    assert await relay.run_once() == 0


async def test_a_projection_left_behind_is_never_trusted_and_is_caught_up(
    db: AsyncDatabase[mongo.Document],
) -> None:
    ctx = await _ctx(db)
    opened = await children.register_child(
        ctx=ctx,
        principal=LEAD.principal(),
        details=new_child_details(),
        shielded=False,
        sensitive_service=False,
    )
    assert opened.child is not None
    child_id = opened.child.child_id
    stale = opened.child
    request = await teams.request_join(
        ctx=ctx, principal=TEACHER.principal(), child_id=child_id, reason="DSL"
    )
    # a racing write steps the projection back (FerretDB 1.24 loses concurrent updates)
    await db["children"].delete_one({"_id": child_id})
    await ctx.store.project(stale)
    current = await ctx.store.child(child_id)
    assert current is not None and current.access.request(request.request_id) is not None
    assert current.seq == 2
    projections = ProjectionRefresher(ctx.store)
    relay = _relay(ctx.store, Published(), after_publish=projections.published)
    await relay.run_once()
    assert await projections.refresh_settled(everything=True) == 1
    doc = await db["children"].find_one({"_id": child_id})
    assert doc is not None and doc["seq"] == 2 and doc["has_pending"]


async def test_a_lost_projection_is_rebuilt_from_the_commits(db: AsyncDatabase[mongo.Document]) -> None:
    ctx = await _ctx(db)
    opened = await children.register_child(
        ctx=ctx,
        principal=LEAD.principal(),
        details=new_child_details(),
        shielded=True,
        sensitive_service=False,
    )
    assert opened.child is not None
    await db["children"].delete_one({"_id": opened.child.child_id})
    rebuilt = await ctx.store.child(opened.child.child_id)
    assert rebuilt is not None
    assert (
        rebuilt.details == opened.child.details
        and rebuilt.access.shielded
        and rebuilt.access.lead_id == "p-lead"
    )


async def test_two_changes_from_the_same_state_cannot_both_be_committed(
    db: AsyncDatabase[mongo.Document],
) -> None:
    ctx = await _ctx(db)
    opened = await children.register_child(
        ctx=ctx,
        principal=LEAD.principal(),
        details=new_child_details(),
        shielded=False,
        sensitive_service=False,
    )
    assert opened.child is not None
    child = opened.child
    asks = [
        teams.request_join(ctx=ctx, principal=p.principal(), child_id=child.child_id, reason="at once")
        for p in (
            TEACHER,
            Person(person_id="p-x", username="x", name="X", kind="practitioner", agency="police"),
        )
    ]
    await asyncio.gather(*asks)
    commits = await ctx.store.commits(child.child_id)
    assert [c.seq for c in commits] == [1, 2, 3]
    current = await ctx.store.child(child.child_id)
    assert current is not None and len(current.access.pending) == 2


async def test_a_contact_resolved_just_before_a_crash_is_published_once_the_relay_runs(
    db: AsyncDatabase[mongo.Document],
) -> None:
    ctx = await _ctx(db)
    await ctx.contacts.create_indexes()
    details = new_child_details().model_copy(update={"nhs_number": None})
    opened = await children.register_child(
        ctx=ctx, principal=LEAD.principal(), details=details, shielded=False, sensitive_service=False
    )
    assert opened.child is not None
    data = ContactRecorded(
        agency="health",
        author=Author(name="A Nurse", role="school nurse"),
        child=ChildIdentifiers(
            given_name=details.given_name + "a",
            family_name=details.family_name,
            date_of_birth=details.date_of_birth,
            postcode=details.postcode,
        ),
        occurred_at=utc_now(),
        contact_type="health_appointment",
        summary="Missed appointment",
        impact="negative",
    )
    contact = make_event(type=CONTACT_RECORDED, source="health", subject="-", data=data)
    assert (
        await ctx.contacts.hold(
            [(identity.waiting_match(contact, (opened.child.child_id,)), contact.model_dump_json())]
        )
        == 1
    )
    manager = Principal(subject="p-manager", name="Manager", kind="manager", agency="socialcare")
    # resolved, and the process dies before anything is published (notify_outbox wakes no relay here)
    await identity.identify_contact(
        ctx=ctx, principal=manager, match_id=f"health:{contact.id}", child_id=opened.child.child_id
    )
    published: list[OutboxMessage] = []
    away = True

    async def publish(message: OutboxMessage) -> None:
        if away:
            raise ConnectionError("broker away")
        published.append(message)

    relay = OutboxRelay(ResolutionOutbox(ctx.contacts), publish, OutboxMetrics.create(CollectorRegistry()))
    with pytest.raises(ConnectionError):
        await relay.run_once()
    away = False
    assert await relay.run_once() == 1
    [message] = published
    identified = decode_identity_event(message.topic, message.value)
    assert identified.data.child_id == opened.child.child_id and identified.data.contact.id == contact.id
    assert await relay.run_once() == 0
    held = await ctx.contacts.held(f"health:{contact.id}")
    assert held is not None and held[0].status == "identified"


async def test_matching_a_registration_and_listing_requests_to_decide_read_only_what_they_match(
    db: AsyncDatabase[mongo.Document], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every filter the children's store sends is one FerretDB pushes down to PostgreSQL (its `explain` says
    `filterPushdown`): an `$or` is not, so it read every child, and the page benchmark's registrations timed
    out past about 2,000 children."""
    ctx = await _ctx(db)
    details = new_child_details()
    opened = await children.register_child(
        ctx=ctx, principal=LEAD.principal(), details=details, shielded=False, sensitive_service=False
    )
    assert opened.child is not None
    sent: list[dict[str, Any]] = []
    collection = db["children"]
    find = collection.find

    def recording(where: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        sent.append(where)
        return find(where, *args, **kwargs)

    monkeypatch.setattr(collection, "find", recording)
    store = ChildStore(db)
    store._children = collection
    [found] = await store.candidates(details)  # the same date of birth and the same NHS number: found once
    assert found.child_id == opened.child.child_id
    await store.awaiting_decision(person_id=LEAD.person_id, agency=LEAD.agency)
    assert len(sent) == 5, sent
    for where in sent:
        plan = await db.command("explain", {"find": "children", "filter": where})
        assert plan["filterPushdown"], where
