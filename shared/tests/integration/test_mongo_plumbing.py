"""The shared MongoDB helpers against the real MongoDB-wire server (FerretDB on PostgreSQL here)."""

import asyncio
from collections.abc import AsyncIterator

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection

from devstack.infra import Endpoints
from shared import mongo

pytestmark = pytest.mark.integration


@pytest.fixture
async def collection(infra: Endpoints, mongo_db_name: str) -> AsyncIterator[AsyncCollection[mongo.Document]]:
    client: AsyncMongoClient[mongo.Document] = mongo.connect(infra.mongo_url, app_name="test")
    try:
        yield client[mongo_db_name]["things"]
    finally:
        await client.drop_database(mongo_db_name)
        await client.close()


async def test_appending_the_same_documents_twice_stores_them_once(
    collection: AsyncCollection[mongo.Document],
) -> None:
    docs = [{"_id": f"e{i}", "n": i} for i in range(20)]
    first = await mongo.append_many(collection, docs)
    again = await mongo.append_many(collection, [*docs[:5], {"_id": "e20", "n": 20}])
    assert first.inserted == 20
    assert again.inserted == 1
    assert sorted(again.duplicate_ids) == ["e0", "e1", "e2", "e3", "e4"]
    assert await collection.count_documents({}) == 21


async def test_updating_hundreds_of_existing_documents_in_one_call_does_not_hang(
    collection: AsyncCollection[mongo.Document],
) -> None:
    # FerretDB 1.24 hangs on one bulk command with >~100 matched UpdateOne statements (BRIEF §5);
    # update_by_id must never build one.
    await mongo.append_many(collection, [{"_id": i, "seen": 0} for i in range(400)])
    updates = {i: {"$set": {"seen": 1}} for i in range(400)}
    matched = await asyncio.wait_for(mongo.update_by_id(collection, updates), timeout=60)
    assert matched == 400
    assert await collection.count_documents({"seen": 1}) == 400


async def test_bulk_upserts_create_missing_documents(collection: AsyncCollection[mongo.Document]) -> None:
    updates = {f"k{i}": {"$setOnInsert": {"created": True}, "$set": {"v": i}} for i in range(150)}
    await asyncio.wait_for(mongo.update_by_id(collection, updates, upsert=True), timeout=60)
    assert await collection.count_documents({"created": True}) == 150


async def test_declaring_the_same_indexes_again_on_restart_works(
    infra: Endpoints, mongo_db_name: str
) -> None:
    # FerretDB 1.24 panicked on a repeated createIndexes with two compound indexes: every service restart.
    from pymongo import IndexModel

    client: AsyncMongoClient[mongo.Document] = mongo.connect(infra.mongo_url, app_name="test")
    indexes = {"entries": [IndexModel([("a", 1), ("b", 1)]), IndexModel([("a", 1), ("c", 1)])]}
    try:
        await mongo.ensure_indexes(client[mongo_db_name], indexes)
        await mongo.ensure_indexes(client[mongo_db_name], indexes)
        names = set(await client[mongo_db_name]["entries"].index_information())
        assert {"a_1_b_1", "a_1_c_1"} <= names
    finally:
        await client.drop_database(mongo_db_name)
        await client.close()
