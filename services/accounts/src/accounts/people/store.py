"""People and the signing key in accounts' MongoDB database.

A person is one document keyed by person id, written by insert. The only update is a password hash replaced
by a newer one after a successful sign-in: a single-document `$set`, conditional on the hash it replaces.
FerretDB 1.24 can lose one of two concurrent updates of one document (see `accounts.children.store`); here
both would write a hash of the same password, so either may win.
"""

from __future__ import annotations

from collections.abc import Sequence

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from accounts.errors import Conflict
from accounts.people.models import Person
from shared import mongo

PEOPLE = "people"
KEYS = "signing_keys"
INDEXES = {PEOPLE: [IndexModel([("username", ASCENDING)], unique=True)]}
SIGNING_KEY_ID = "current"


class PeopleStore:
    def __init__(self, db: AsyncDatabase[mongo.Document]) -> None:
        self._db = db
        self._people = db[PEOPLE]
        self._keys = db[KEYS]

    async def create_indexes(self) -> None:
        await mongo.ensure_indexes(self._db, INDEXES)

    async def add_people(self, people: Sequence[Person]) -> int:
        """Insert people keyed by id; those already stored are left as they are."""
        result = await mongo.append_many(self._people, [_person_doc(p) for p in people])
        return result.inserted

    async def insert_person(self, person: Person) -> None:
        try:
            await self._people.insert_one(_person_doc(person))
        except DuplicateKeyError as err:
            raise Conflict(f"the user name {person.username!r} is taken") from err

    async def person(self, person_id: str) -> Person | None:
        doc = await self._people.find_one({"_id": person_id})
        return _person(doc) if doc else None

    async def person_by_username(self, username: str) -> Person | None:
        doc = await self._people.find_one({"username": username})
        return _person(doc) if doc else None

    async def replace_password_hash(self, person_id: str, *, old: str, new: str) -> bool:
        """Store `new` in place of `old`; False if the person's hash is no longer `old`."""
        result = await self._people.update_one(
            {"_id": person_id, "password_hash": old}, {"$set": {"password_hash": new}}
        )
        return result.modified_count == 1

    async def signing_key(self) -> str | None:
        doc = await self._keys.find_one({"_id": SIGNING_KEY_ID})
        return str(doc["private_pem"]) if doc else None

    async def keep_signing_key(self, pem: str) -> str:
        """Store `pem` unless another replica stored one first; returns the key in force."""
        try:
            await self._keys.insert_one({"_id": SIGNING_KEY_ID, "private_pem": pem})
            return pem
        except DuplicateKeyError:
            stored = await self.signing_key()
            if stored is None:
                raise
            return stored


def _person_doc(person: Person) -> mongo.Document:
    doc = person.model_dump()
    doc["_id"] = doc.pop("person_id")
    return doc


def _person(doc: mongo.Document) -> Person:
    return Person.model_validate({**doc, "person_id": doc["_id"]})
