"""The shared outbox relay against the real MongoDB-wire server: a poison entry is set aside and counted, the
rest are published in order; an outage keeps everything pending for the next round."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from aiokafka.errors import MessageSizeTooLargeError
from prometheus_client import CollectorRegistry
from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection

from devstack.infra import Endpoints
from shared import mongo
from shared.events import make_event
from shared.outbox import DocumentOutbox, OutboxMessage, OutboxMetrics, OutboxRelay, outbox_fields
from shared.policy import Principal

pytestmark = pytest.mark.integration
START = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
async def marks(infra: Endpoints, mongo_db_name: str) -> AsyncIterator[AsyncCollection[mongo.Document]]:
    client: AsyncMongoClient[mongo.Document] = mongo.connect(infra.mongo_url, app_name="test")
    try:
        yield client[mongo_db_name]["marks"]
    finally:
        await client.drop_database(mongo_db_name)
        await client.close()


class Broker:
    """Records what was published; refuses for good any message whose event says `too_big`."""

    def __init__(self) -> None:
        self.published: list[str] = []
        self.away = False

    async def __call__(self, message: OutboxMessage) -> None:
        if self.away:
            raise ConnectionError("broker away")
        data = json.loads(message.value)["data"]
        if data.get("too_big"):
            raise MessageSizeTooLargeError("the broker refuses a message this size")
        self.published.append(data["name"])


async def _write(marks: AsyncCollection[mongo.Document], n: int, **data: object) -> str:
    event = make_event(
        type="test.written",
        source="test",
        subject="child-1",
        data=Principal(subject=f"p{n}", name=f"entry {n}", kind="practitioner", agency="school"),
    )
    event = event.model_copy(update={"time": START + timedelta(seconds=n)})
    doc = {"_id": event.id, **outbox_fields("test.events", event)}
    if data:
        payload = json.loads(doc["outbox_event"])
        payload["data"].update(data)
        doc["outbox_event"] = json.dumps(payload)
    await marks.insert_one(doc)
    return event.id


def _relay(marks: AsyncCollection[mongo.Document], broker: Broker) -> tuple[OutboxRelay, CollectorRegistry]:
    registry = CollectorRegistry()
    return OutboxRelay(DocumentOutbox(marks), broker, OutboxMetrics.create(registry), batch=3), registry


async def test_the_relay_sets_a_poison_document_aside_and_keeps_publishing_the_rest(
    marks: AsyncCollection[mongo.Document],
) -> None:
    await _write(marks, 1)
    unreadable = "unreadable-1"
    await marks.insert_one(
        {"_id": unreadable, "pending": True, "written_at": START + timedelta(seconds=2), "outbox_event": "{"}
    )
    too_big = await _write(marks, 3, too_big=True)
    for n in range(4, 8):
        await _write(marks, n)
    broker = Broker()
    relay, registry = _relay(marks, broker)

    assert await relay.run_once() == 5
    assert broker.published == ["entry 1", "entry 4", "entry 5", "entry 6", "entry 7"]
    assert await marks.count_documents({"pending": True}) == 0
    set_aside = {
        d["_id"]: d["outbox_set_aside"] async for d in marks.find({"outbox_set_aside": {"$exists": True}})
    }
    assert set(set_aside) == {unreadable, too_big}
    assert "unreadable outbox entry" in set_aside[unreadable]
    assert "MessageSizeTooLargeError" in set_aside[too_big]
    assert registry.get_sample_value("sg_outbox_set_aside_total", {"outbox": "marks"}) == 2
    assert registry.get_sample_value("sg_outbox_published_total", {"outbox": "marks"}) == 5
    assert await relay.run_once() == 0


async def test_while_the_broker_is_away_every_entry_stays_pending_for_the_next_round(
    marks: AsyncCollection[mongo.Document],
) -> None:
    for n in range(1, 4):
        await _write(marks, n)
    broker = Broker()
    relay, _ = _relay(marks, broker)
    broker.away = True
    with pytest.raises(ConnectionError):
        await relay.run_once()
    assert await marks.count_documents({"pending": True}) == 3
    assert await marks.count_documents({"outbox_set_aside": {"$exists": True}}) == 0

    broker.away = False
    assert await relay.run_once() == 3
    assert broker.published == ["entry 1", "entry 2", "entry 3"]
