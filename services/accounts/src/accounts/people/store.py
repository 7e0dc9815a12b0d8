"""People and the signing key in accounts' MongoDB database.

A person is one document keyed by person id, written by insert. Updates are single-document `$set`s: a
password hash replaced by a newer one after a successful sign-in (conditional on the hash it replaces), a lock
after repeated failed sign-ins, and the account disabled or enabled. Disabling and enabling carry their
`person.*` event in the same document (`shared.outbox.DocumentOutbox` publishes it), so the change and its
event cannot part; a change waits (`PersonBusy`) while the person's previous event is unpublished, so one
event never overwrites another. FerretDB 1.24 can lose one of two concurrent updates of one document (see
`accounts.children.store`); the conditions above make each such update either apply whole or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from accounts.errors import Conflict, Unavailable
from accounts.people.models import Person
from shared import mongo
from shared.events import Envelope
from shared.outbox import PENDING_INDEX, outbox_fields

PEOPLE = "people"
KEYS = "signing_keys"
INDEXES = {PEOPLE: [IndexModel([("username", ASCENDING)], unique=True), PENDING_INDEX]}
OUTBOX_FIELDS = ("pending", "written_at", "outbox_topic", "outbox_event", "outbox_set_aside")


class UsernameTaken(Conflict):
    """Another account has this user name."""


class PersonBusy(Unavailable):
    """The person's previous change is still being published."""


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
            raise UsernameTaken(f"the user name {person.username!r} is taken") from err

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

    async def set_status(
        self,
        person_id: str,
        *,
        disabled: bool,
        sessions_after: datetime | None,
        topic: str,
        event: Envelope[Any],
    ) -> None:
        """Disable or enable the person, with the event that says so; `PersonBusy` while a previous one is
        unpublished."""
        changes: mongo.Document = {"disabled": disabled, **outbox_fields(topic, event)}
        if sessions_after is not None:
            changes["sessions_after"] = sessions_after
        if not disabled:
            changes["locked_until"] = None
        result = await self._people.update_one(
            {"_id": person_id, "pending": {"$ne": True}}, {"$set": changes}
        )
        if result.matched_count == 0:
            raise PersonBusy("the account's previous change is still being published; try again in a moment")

    async def set_lock(self, person_id: str, *, until: datetime | None, was: datetime | None) -> bool:
        """Lock the person until `until` (None: unlock) if the lock is still `was`; False if it changed."""
        result = await self._people.update_one(
            {"_id": person_id, "locked_until": was}, {"$set": {"locked_until": until}}
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
    fields = {k: v for k, v in doc.items() if k not in OUTBOX_FIELDS and k != "_id"}
    return Person.model_validate({**fields, "person_id": doc["_id"]})
