"""The forum's rules through the real stack (the service under uvicorn, the real broker and MongoDB-wire
server): a worry reaches the team and never the family from a practitioner-only thread, a mention reaches the
person named, practitioners' worries count toward the cross-agency pattern beside significant contacts (once,
and not for two agencies), and a redacted post's words are nowhere in notifications' database."""

# ruff: noqa: F811  (the fixtures imported from the neighbouring module are redefined as parameters)
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from notify_support import IDS, Publisher, Service
from pymongo import AsyncMongoClient
from test_notifications_flow import (  # noqa: F401
    LEAD,
    TEACHER,
    joined,
    kinds,
    mailbox,
    publish,
    service,
    until_kinds,
)

from devstack.infra import Endpoints
from shared import mongo
from testsupport.events import (
    account_opened,
    contact_event,
    forum_mention,
    forum_post,
    forum_redaction,
    new_nhs_number,
    participant,
)
from testsupport.offline import eventually_async

pytestmark = pytest.mark.integration
PARENT = "parent-1"


async def _child_with_family(service: Service, publish: Publisher) -> str:
    child = new_nhs_number()
    await publish(
        service.topics.accounts_events,
        *account_opened(child, lead_id=LEAD, family_id=PARENT),
        *joined(child, TEACHER, 3),
    )
    await service.until_members(child, TEACHER)
    return child


async def _family_inbox(service: Service) -> list[dict[str, Any]]:
    async with service.client() as http:
        response = await http.get("/notifications", headers=IDS.headers(PARENT, kind="family"))
    assert response.status_code == 200, response.text
    notes: list[dict[str, Any]] = response.json()["notifications"]
    return notes


async def test_a_worry_reaches_the_team_and_a_mention_the_person_named_never_the_family_from_a_private_thread(
    service: Service, publish: Publisher
) -> None:
    child = await _child_with_family(service, publish)
    private = forum_post(child, participant(TEACHER), audience="practitioners")
    shared = forum_post(child, participant(LEAD), audience="family", tag="next_step")
    await publish(
        service.topics.forum_events,
        private,
        forum_mention(private, LEAD),
        forum_mention(private, PARENT),  # the forum refuses this; were it published, nobody tells the family
        shared,
        forum_mention(shared, PARENT),
    )

    await until_kinds(service, LEAD, ["join_requested", "forum_worry", "forum_mention"])
    await eventually_async(
        lambda: _family_told_once(service), what="the parent's one mention, from the shared thread", within=30
    )
    assert await kinds(service, TEACHER) == []  # the worry's author is not told of their own worry
    (note,) = await _family_inbox(service)
    assert note["kind"] == "forum_mention" and note["link"] == f"/children/{child}#forum"


async def _family_told_once(service: Service) -> bool:
    return [n["kind"] for n in await _family_inbox(service)] == ["forum_mention"]


async def test_worries_count_toward_the_cross_agency_pattern_once_and_two_agencies_fire_nothing(
    service: Service, publish: Publisher
) -> None:
    child, quiet = await _child_with_family(service, publish), await _child_with_family(service, publish)
    day = datetime(2026, 3, 1, 9, tzinfo=UTC)
    for about in (child, quiet):
        await publish(
            service.topics.contact("school"),
            contact_event(about, agency="school", significant=True, occurred_at=day),
        )
        await publish(
            service.topics.forum_events,
            forum_post(about, participant("dsl-1", agency="school"), at=day + timedelta(days=1)),
            forum_post(
                about, participant(PARENT, family=True), audience="family", at=day + timedelta(days=1)
            ),
            forum_post(about, participant("gp-1", agency="health"), at=day + timedelta(days=2)),
        )
    # the third agency for one child only, then a fourth (the pattern has fired: not again)
    await publish(
        service.topics.forum_events,
        forum_post(child, participant("pc-1", agency="police"), at=day + timedelta(days=4)),
    )
    await publish(
        service.topics.contact("housing"),
        contact_event(child, agency="housing", significant=True, occurred_at=day + timedelta(days=5)),
    )

    # two children: a join request, a contact and three worries each; then the child's worry and contact
    lead_gets = ["join_requested"] * 2 + ["significant_contact"] * 3 + ["forum_worry"] * 7
    await until_kinds(service, LEAD, [*lead_gets, "cross_agency_pattern"])
    async with service.client() as http:
        notes = (await http.get("/notifications", headers=IDS.headers(LEAD))).json()["notifications"]
    assert [n["child_id"] for n in notes if n["kind"] == "cross_agency_pattern"] == [child]


async def test_a_redacted_posts_words_are_nowhere_in_notifications_database(
    infra: Endpoints, service: Service, publish: Publisher
) -> None:
    child = await _child_with_family(service, publish)
    words = "Stepfather Morris hit her with a belt"
    worry = forum_post(child, participant(TEACHER), audience="family", body=words)
    await publish(service.topics.forum_events, worry, forum_mention(worry, LEAD))
    await until_kinds(service, LEAD, ["join_requested", "forum_worry", "forum_mention"])
    await publish(service.topics.forum_events, forum_redaction(worry, participant(LEAD)))
    marker = forum_post(child, participant(TEACHER), body="A later worry")  # the redaction was consumed too
    await publish(service.topics.forum_events, marker)
    await until_kinds(service, LEAD, ["join_requested", "forum_worry", "forum_worry", "forum_mention"])

    client: AsyncMongoClient[mongo.Document] = mongo.connect(infra.mongo_url, app_name="test")
    try:
        db = client[service.database]
        stored = [repr(doc) for name in await db.list_collection_names() async for doc in db[name].find({})]
    finally:
        await client.close()
    assert any(worry.id in text or child in text for text in stored)  # the database was read
    for word in ("Stepfather", "Morris", "belt", "later worry"):
        assert not any(word in text for text in stored), word  # notifications never stored the words
