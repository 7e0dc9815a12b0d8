"""Accounts and another service over the real broker: account events keep the other service's access snapshot
in step, and audit events from two services are queryable in accounts and shown to the family."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest

from devstack.infra import Endpoints
from shared import mongo
from shared.access import AccessSnapshots
from shared.audit import AuditTrail, KafkaAuditSink
from shared.contracts.accounts import decode_account_event
from shared.errors import SHARED_STATUSES
from shared.service import Runtime, service_app
from shared.settings import ServiceSettings
from testsupport.accounts import RunningAccounts, new_child_details, running_accounts

pytestmark = pytest.mark.integration


async def eventually(check: Callable[[], Awaitable[bool]], *, within: float = 30.0, what: str) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"not within {within}s: {what}")


@dataclass
class OtherService:
    """A service that keeps an access snapshot and audits its reads, as chronology does."""

    snapshots: AccessSnapshots
    trail: AuditTrail


@pytest.fixture(scope="module")
async def running(infra: Endpoints) -> AsyncIterator[tuple[RunningAccounts, OtherService]]:
    database = f"test_{uuid.uuid4().hex}"
    settings = ServiceSettings(
        service_name="snapshot-test",
        kafka_bootstrap=infra.kafka_bootstrap,
        mongo_url=infra.mongo_url,
        mongo_db=database,
        consumer_group_suffix=f"-{uuid.uuid4().hex[:8]}",
    )
    runtime = Runtime.create(settings)
    snapshots = AccessSnapshots(runtime.db)
    runtime.on_start(snapshots.create_indexes)
    runtime.consume(
        [runtime.topics.accounts_events],
        group="access",
        decode=decode_account_event,
        handle=snapshots.on_account_events,
        title="snapshot test: account events into the access snapshot",
    )
    app = service_app(runtime, title="snapshot test", description="", errors=SHARED_STATUSES)
    other = OtherService(snapshots, AuditTrail(KafkaAuditSink(runtime.broker), service="chronology"))
    async with running_accounts(
        kafka_bootstrap=infra.kafka_bootstrap, mongo_url=infra.mongo_url, memory_audit=False
    ) as accounts:
        for name, kind, agency in [
            ("lead", "practitioner", "socialcare"),
            ("teacher", "practitioner", "school"),
            ("parent", "family", None),
            ("auditor", "auditor", None),
        ]:
            await accounts.add_person(name, kind, agency)  # type: ignore[arg-type]
        try:
            async with app.router.lifespan_context(app):
                yield accounts, other
        finally:
            client = mongo.connect(infra.mongo_url, app_name="test")
            await client.drop_database(database)
            await client.close()


async def _team(accounts: RunningAccounts) -> str:
    lead = accounts.headers(accounts.people["lead"])
    opened = await accounts.client.post(
        "/children", json=new_child_details().model_dump(mode="json"), headers=lead
    )
    child_id = str(opened.json()["child_id"])
    asked = await accounts.client.post(
        f"/children/{child_id}/join-requests",
        json={"reason": "school DSL"},
        headers=accounts.headers(accounts.people["teacher"]),
    )
    request_id = asked.json()["request_id"]
    await accounts.client.post(
        f"/children/{child_id}/join-requests/{request_id}/approve", json={}, headers=lead
    )
    await accounts.client.post(
        f"/children/{child_id}/family",
        json={"person_id": accounts.people["parent"].person_id, "relationship": "parent"},
        headers=lead,
    )
    return child_id


async def test_another_services_snapshot_follows_the_team_through_kafka(
    running: tuple[RunningAccounts, OtherService],
) -> None:
    accounts, other = running
    child_id = await _team(accounts)
    teacher = accounts.people["teacher"].principal()

    async def teacher_may_read() -> bool:
        return (await other.snapshots.decide(teacher, "read_chronology", child_id)).allowed

    await eventually(teacher_may_read, what="the approved member may read in the other service")
    parent = accounts.people["parent"].principal()

    async def parent_has_the_family_view() -> bool:
        # The family link is the team's last change: it may still be in flight when the teacher's shows up.
        decision = await other.snapshots.decide(parent, "read_chronology", child_id)
        return decision.allowed and decision.view == "family"

    await eventually(parent_has_the_family_view, what="the linked parent reads the family view")

    left = await accounts.client.post(f"/children/{child_id}/leave", headers=accounts.headers(teacher))
    assert left.status_code == 204

    async def teacher_refused() -> bool:
        return not await teacher_may_read()

    await eventually(teacher_refused, what="after leaving, the other service refuses the teacher")
    mine = await accounts.ctx.store.child(child_id)
    theirs = await other.snapshots.get(child_id)
    assert mine is not None and theirs is not None
    assert theirs.seq == mine.seq
    assert [m.person_id for m in theirs.members] == [m.person_id for m in mine.access.members]
    assert theirs.family == mine.access.family and theirs.lead_id == mine.access.lead_id

    async def all_marked_published() -> bool:
        # The relay marks a commit after the broker acknowledged it, so a consumer may see it first.
        return await accounts.ctx.store.unpublished() == []

    await eventually(all_marked_published, what="the relay marks every commit published")


async def test_audit_events_from_two_services_are_queryable_and_the_family_sees_who_viewed(
    running: tuple[RunningAccounts, OtherService],
) -> None:
    accounts, other = running
    child_id = await _team(accounts)
    teacher = accounts.people["teacher"].principal()

    async def snapshot_ready() -> bool:
        return (await other.snapshots.decide(teacher, "read_chronology", child_id)).allowed

    await eventually(snapshot_ready, what="the other service knows the team")
    # chronology's read, recorded the way every service records one
    decision = await other.snapshots.decide(teacher, "read_chronology", child_id)
    await other.trail.record(
        principal=teacher, action="read_chronology", child_id=child_id, decision=decision
    )
    # accounts' own read
    header = await accounts.client.get(
        f"/children/{child_id}", headers=accounts.headers(accounts.people["lead"])
    )
    assert header.status_code == 200
    auditor = accounts.headers(accounts.people["auditor"])

    async def both_services_logged() -> bool:
        entries = (await accounts.client.get(f"/audit?child_id={child_id}", headers=auditor)).json()
        return {"chronology", "accounts"} <= {
            e["service"] for e in entries if e["action"] in ("read_chronology", "view_header")
        }

    await eventually(both_services_logged, what="reads from chronology and accounts in the audit log")
    entries = (await accounts.client.get(f"/audit?child_id={child_id}", headers=auditor)).json()
    decisions = [e for e in entries if e["action"] == "access_decision"]
    assert {d["detail"].split(":")[0] for d in decisions} >= {"join_approved", "family_linked"}
    by_teacher = (
        await accounts.client.get(
            f"/audit?actor_id={teacher.subject}&action=read_chronology", headers=auditor
        )
    ).json()
    assert [e["child_id"] for e in by_teacher] == [child_id]

    viewers = (
        await accounts.client.get(
            f"/children/{child_id}/viewers", headers=accounts.headers(accounts.people["parent"])
        )
    ).json()
    assert {"Teacher", "Lead"} <= {v["name"] for v in viewers}
    refused = await accounts.client.get(
        f"/audit?child_id={child_id}", headers=accounts.headers(accounts.people["lead"])
    )
    assert refused.status_code == 403
