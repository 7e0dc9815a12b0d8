"""The daily digest through the real stack, at its configured hour (issue 13, item 3): the service's clock is
brought to a second before the hour, and at the hour one email per person reaches the real SMTP server on
loopback (aiosmtpd), saying how many of each kind, with a link, and nothing about any case."""

# The fixtures are test_notifications_flow's, found by pytest by name; ruff reads them as redefinitions.
# ruff: noqa: F811

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.message import Message

import pytest
from notify_support import Clock, Mailbox, Publisher, Service, run_topics, serving, settings_for, smtp_server
from test_notifications_flow import LEAD, TEACHER, joined, opened, publish, until_kinds  # noqa: F401

from devstack.infra import Endpoints
from notifications.mail import next_digest
from shared import mongo
from testsupport.events import contact_event, forum_post, new_nhs_number, participant
from testsupport.offline import eventually_async

pytestmark = pytest.mark.integration
DIGEST = "Safeguarding 2.0: your daily digest"
SECRET = f"Disclosed to Mrs Hughes at Elm Road, ref {uuid.uuid4().hex[:6]}"


@pytest.fixture
async def digesting(infra: Endpoints) -> AsyncIterator[tuple[Service, Clock, Mailbox]]:
    box, clock = Mailbox(), Clock()
    hour = (datetime.now(UTC).hour + 2) % 24  # the digest is hours away until the test moves the clock
    topics = await run_topics(infra)
    database = f"test_{uuid.uuid4().hex}"
    with smtp_server(box) as smtp:
        settings = settings_for(infra, topics, database, smtp.port, digest_hour=hour, digest_check_s=0.2)
        try:
            async with serving(settings, topics, clock=clock) as running:
                yield running, clock, box
        finally:
            client = mongo.connect(infra.mongo_url, app_name="test")
            await client.drop_database(database)
            await client.close()


def digests(box: Mailbox) -> list[Message]:
    return [m for m in box.messages if m["Subject"] == DIGEST]


async def test_the_digest_goes_at_its_hour_one_email_per_person_with_no_case_details(
    digesting: tuple[Service, Clock, Mailbox], publish: Publisher
) -> None:
    service, clock, box = digesting
    topics = service.topics
    children = [new_nhs_number(), new_nhs_number()]
    for child in children:
        await publish(topics.accounts_events, *opened(child), *joined(child, TEACHER, 2))
        await service.until_members(child, TEACHER)
        await publish(
            topics.contact("police"), contact_event(child, agency="police", significant=True, summary=SECRET)
        )
    await publish(
        topics.forum_events, forum_post(children[0], participant("gp-1", agency="health"), body=SECRET)
    )
    everyone = ["significant_contact", "significant_contact", "forum_worry"]
    await until_kinds(service, TEACHER, everyone)
    await until_kinds(service, LEAD, [*everyone, "join_requested", "join_requested"])
    assert digests(box) == []  # hours before the digest's hour

    clock.offset = (
        next_digest(datetime.now(UTC), service.settings.digest_hour)
        - timedelta(seconds=1)
        - (datetime.now(UTC))
    )

    async def both() -> bool:
        return len(digests(box)) >= 2

    await eventually_async(both, what="the digest at its hour", within=30)
    await asyncio.sleep(
        1.0
    )  # the digest loop checks every 0.2 s: time enough for a second round, were there one
    sent = digests(box)
    assert sorted(str(m["To"]) for m in sent) == [f"{LEAD}@council.example", f"{TEACHER}@council.example"]
    for message in sent:
        body = str(message.get_payload())
        assert "New significant event: 2" in body and "New worry in the forum: 1" in body
        assert "Request to join" not in body  # chosen by email, not for the digest
        assert "/notifications" in body
        for detail in ("Hughes", "Elm Road", "Disclosed", "police", "health", "gp-1", "T.C.", *children):
            assert detail not in body, (detail, body)
