"""The viewers read model (issue 10) and who it names to whom (issue 9, rules 4 and 5): views go through the real
broker into accounts' consumer, and the list is read over HTTP the way the family and the team read it."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from accounts.audit.models import AuditEntry
from accounts.audit.viewers import View, ViewerStore
from accounts.children.views import HIDDEN_PROVIDER
from devstack.infra import Endpoints
from shared import mongo
from shared.events import utc_now
from testsupport.accounts import RunningAccounts, new_child_details, running_accounts

pytestmark = pytest.mark.integration

BREAK_GLASS = {"purpose": "missing_child", "reason": "reported missing tonight, need known contacts"}


@pytest.fixture(scope="module")
async def accounts(infra: Endpoints) -> AsyncIterator[RunningAccounts]:
    async with running_accounts(
        kafka_bootstrap=infra.kafka_bootstrap,
        mongo_url=infra.mongo_url,
        kafka_admin=infra.kafka_admin,
        kafka_credentials=infra.kafka_user("accounts"),
        memory_audit=False,  # audit events go to Kafka and come back through accounts' own consumer
    ) as running:
        for name, kind, agency, role in [
            ("lead", "practitioner", "socialcare", "social worker"),
            ("teacher", "practitioner", "school", "teacher"),
            ("parent", "family", None, "parent"),
            ("carer", "family", None, "foster carer"),
        ]:
            await running.add_person(name, kind, agency, role)  # type: ignore[arg-type]
        for name in ("nurse", "counsellor"):
            await running.add_person(name, "practitioner", "sexualhealth", "nurse", sensitive_service=True)
        yield running


async def _call(accounts: RunningAccounts, who: str, method: str, path: str, body: Any = None) -> Any:
    headers = accounts.headers(accounts.people[who])
    return await accounts.client.request(method, path, json=body, headers=headers)


async def _open(accounts: RunningAccounts) -> str:
    opened = await _call(accounts, "lead", "POST", "/children", new_child_details().model_dump(mode="json"))
    assert opened.status_code == 201, opened.text
    child_id = str(opened.json()["child_id"])
    for who, relationship in (("parent", "parent"), ("carer", "carer")):
        body = {"person_id": accounts.people[who].person_id, "relationship": relationship}
        linked = await _call(accounts, "lead", "POST", f"/children/{child_id}/family", body)
        assert linked.status_code == 200, linked.text
    return child_id


async def _join(accounts: RunningAccounts, who: str, child_id: str) -> None:
    asked = await _call(
        accounts, who, "POST", f"/children/{child_id}/join-requests", {"reason": "working with"}
    )
    assert asked.status_code == 201, asked.text
    approve = f"/children/{child_id}/join-requests/{asked.json()['request_id']}/approve"
    approved = await _call(accounts, "lead", "POST", approve, {})
    assert approved.status_code == 200, approved.text


async def _look(accounts: RunningAccounts, who: str, child_id: str, *, times: int = 1) -> None:
    for _ in range(times):
        assert (await _call(accounts, who, "GET", f"/children/{child_id}")).status_code == 200


async def _viewers(accounts: RunningAccounts, who: str, child_id: str) -> list[dict[str, Any]]:
    answer = await _call(accounts, who, "GET", f"/children/{child_id}/viewers")
    assert answer.status_code == 200, answer.text
    viewers: list[dict[str, Any]] = answer.json()
    return viewers


async def eventually(check: Callable[[], Awaitable[bool]], *, within: float = 30.0, what: str) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"not within {within}s: {what}")


def _times(viewers: list[dict[str, Any]]) -> dict[str | None, int]:
    return {v["person_id"]: v["times"] for v in viewers}


async def test_the_viewers_list_stays_right_when_people_look_leave_and_come_back(
    accounts: RunningAccounts,
) -> None:
    child_id = await _open(accounts)
    teacher = accounts.people["teacher"].person_id
    lead = accounts.people["lead"].person_id
    await _join(accounts, "teacher", child_id)
    await _look(accounts, "teacher", child_id, times=2)
    left = await _call(accounts, "teacher", "POST", f"/children/{child_id}/leave")
    assert left.status_code == 204, left.text
    refused = await _call(accounts, "teacher", "GET", f"/children/{child_id}")
    assert refused.status_code == 403  # a refusal is audited, but it is no view
    await _join(accounts, "teacher", child_id)
    await _look(accounts, "teacher", child_id)
    await _look(accounts, "lead", child_id)

    async def counted() -> bool:
        # The lead's look came after the refusal, on the same child's (ordered) audit events: once it is
        # counted, the refusal has been handled too, so no wait for "nothing more" is needed.
        times = _times(await _viewers(accounts, "lead", child_id))
        return times.get(teacher) == 3 and times.get(lead, 0) >= 1

    await eventually(counted, what="the teacher's three views and the lead's counted")
    viewers = await _viewers(accounts, "lead", child_id)
    assert _times(viewers)[lead] >= 1
    [seen] = [v for v in viewers if v["person_id"] == teacher]
    assert seen["name"] == "Teacher" and seen["agency"] == "school" and not seen["break_glass"]
    assert viewers == sorted(viewers, key=lambda v: str(v["last_viewed"]), reverse=True)
    assert _times(viewers)[teacher] == 3  # the refusal was not counted as a view


async def test_a_sensitive_service_practitioner_who_left_is_never_named_to_the_family_or_the_team(
    accounts: RunningAccounts,
) -> None:
    child_id = await _open(accounts)
    await _join(accounts, "teacher", child_id)
    await _join(accounts, "nurse", child_id)
    await _look(accounts, "nurse", child_id)
    assert (await _call(accounts, "nurse", "POST", f"/children/{child_id}/leave")).status_code == 204
    await _look(accounts, "teacher", child_id)
    await _look(accounts, "parent", child_id)
    nurse = accounts.people["nurse"]

    async def counted() -> bool:
        return nurse.person_id in _times(await _viewers(accounts, "lead", child_id))

    await eventually(counted, what="the nurse's view counted")
    for who in ("parent", "carer", "teacher"):
        viewers = await _viewers(accounts, who, child_id)
        text = repr(viewers)
        assert nurse.person_id not in text and "Nurse" not in text and "sexualhealth" not in text, who
        assert HIDDEN_PROVIDER in {v["name"] for v in viewers}, who
    to_lead = await _viewers(accounts, "lead", child_id)
    assert {"name": "Nurse", "agency": "sexualhealth"}.items() <= next(
        v for v in to_lead if v["person_id"] == nurse.person_id
    ).items()


async def test_a_sensitive_service_practitioner_who_used_break_glass_is_not_named_to_the_family(
    accounts: RunningAccounts,
) -> None:
    child_id = await _open(accounts)
    await _join(accounts, "teacher", child_id)
    granted = await _call(accounts, "counsellor", "POST", f"/children/{child_id}/break-glass", BREAK_GLASS)
    assert granted.status_code == 201, granted.text
    await _look(accounts, "counsellor", child_id)
    counsellor = accounts.people["counsellor"]

    async def counted() -> bool:
        return counsellor.person_id in _times(await _viewers(accounts, "lead", child_id))

    await eventually(counted, what="the break-glass view counted")
    to_parent = await _viewers(accounts, "parent", child_id)
    to_teacher = await _viewers(accounts, "teacher", child_id)
    for viewers in (to_parent, to_teacher):
        assert counsellor.person_id not in repr(viewers) and "Counsellor" not in repr(viewers)
        [hidden] = [v for v in viewers if v["name"] == HIDDEN_PROVIDER]
        assert hidden["agency"] is None and hidden["role"] is None and hidden["break_glass"]
    # the parent still sees themself named, and the foster carer only as a count once they look
    await _look(accounts, "carer", child_id)
    await _look(accounts, "parent", child_id)

    async def both_counted() -> bool:  # each view reaches the read model through audit.events, in its time
        names = {v["name"] for v in await _viewers(accounts, "parent", child_id)}
        return "Parent" in names and any(n.startswith("Other family members") for n in names)

    await eventually(both_counted, what="the carer's and the parent's views counted")
    to_parent = await _viewers(accounts, "parent", child_id)
    assert "Parent" in {v["name"] for v in to_parent} and "Carer" not in {v["name"] for v in to_parent}


@pytest.fixture
async def db(infra: Endpoints) -> AsyncIterator[AsyncDatabase[mongo.Document]]:
    client = mongo.connect(infra.mongo_url, app_name="test")
    name = f"test_{uuid.uuid4().hex}"
    try:
        yield client[name]
    finally:
        await client.drop_database(name)
        await client.close()


def _views(child_id: str, person_id: str, offsets: range) -> list[View]:
    start = utc_now().replace(microsecond=0)  # BSON keeps milliseconds
    return [
        View(
            entry=AuditEntry(
                id=uuid.uuid4().hex,
                at=start + timedelta(seconds=offset),
                service="chronology",
                actor_id=person_id,
                actor_name="Teacher",
                actor_kind="practitioner",
                action="read_chronology",
                child_id=child_id,
                allowed=True,
                reason="member of the child's team",
            ),
            log="audit.events:3",
            offset=offset,
        )
        for offset in offsets
    ]


async def test_a_redelivered_batch_counts_each_view_once_however_it_is_split(
    db: AsyncDatabase[mongo.Document],
) -> None:
    store = ViewerStore(db)
    await store.create_indexes()
    views = _views("child-1", "teacher-1", range(10, 20))
    assert not await store.count(views[:4])  # a new viewer: the caller looks them up first
    await store.first_views(views[:4], sensitive_service=False)
    assert await store.count(views[4:7])
    assert await store.count(views[4:7])  # the same batch again
    assert await store.count(views[2:10])  # redelivered from an earlier offset, and longer
    assert await store.count(views[0:10])
    [viewer] = await store.of_child("child-1")
    assert viewer.times == 10 and viewer.last_viewed == views[-1].entry.at
    assert await store.of_child("child-2") == []
