"""What waits for a person in accounts' MongoDB database: registrations that may be a known child, and
agency contacts without an NHS number that no child matched exactly.

A pending match is resolved by inserting its resolution keyed by the match id, so only the first resolver
wins (an insert is the one atomic write on FerretDB 1.24, see `accounts.children.store`); the match document
is then marked for reading.
"""

from __future__ import annotations

from collections.abc import Sequence

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from accounts.identity.models import ContactMatch, PendingMatch
from shared import mongo
from shared.contracts.contacts import ContactEnvelope, ContactRecorded
from shared.events import Envelope

MATCHES = "pending_matches"
RESOLUTIONS = "match_resolutions"
CONTACT_MATCHES = "contact_matches"


class MatchStore:
    """Registrations waiting for a manager to say whether they are a child who already has an account."""

    def __init__(self, db: AsyncDatabase[mongo.Document]) -> None:
        self._db = db
        self._matches = db[MATCHES]
        self._resolutions = db[RESOLUTIONS]

    async def create_indexes(self) -> None:
        await mongo.ensure_indexes(
            self._db, {MATCHES: [IndexModel([("status", ASCENDING), ("created_at", ASCENDING)])]}
        )

    async def insert_match(self, match: PendingMatch) -> None:
        doc = match.model_dump(mode="json")
        doc["_id"] = doc.pop("match_id")
        doc["created_at"] = match.created_at
        await self._matches.insert_one(doc)

    async def match(self, match_id: str) -> PendingMatch | None:
        doc = await self._matches.find_one({"_id": match_id})
        return _match(doc) if doc else None

    async def open_matches(self, *, limit: int = 100) -> list[PendingMatch]:
        cursor = self._matches.find({"status": "pending"}).sort("created_at", ASCENDING).limit(limit)
        return [_match(d) async for d in cursor]

    async def resolve_match(
        self, match_id: str, *, status: str, resolved_by: str, child_id: str | None
    ) -> bool:
        """Record the resolution; only the first resolver of a match wins."""
        try:
            await self._resolutions.insert_one(
                {"_id": match_id, "status": status, "resolved_by": resolved_by, "child_id": child_id}
            )
        except DuplicateKeyError:
            return False
        await self._matches.update_one(
            {"_id": match_id}, {"$set": {"status": status, "resolved_by": resolved_by, "child_id": child_id}}
        )
        return True


class ContactMatchStore:
    """Agency contacts waiting for a person to say which child each was about."""

    def __init__(self, db: AsyncDatabase[mongo.Document]) -> None:
        self._db = db
        self._docs = db[CONTACT_MATCHES]

    async def create_indexes(self) -> None:
        await mongo.ensure_indexes(self._db, {CONTACT_MATCHES: [IndexModel([("status", ASCENDING)])]})

    async def hold(self, matches: Sequence[tuple[ContactMatch, str]]) -> int:
        """Keep contacts (with the agency's event as JSON) until resolved; one already held stays as it is."""
        docs = [{**m.model_dump(exclude={"id"}), "_id": m.id, "contact": raw} for m, raw in matches]
        return (await mongo.append_many(self._docs, docs)).inserted

    async def waiting(self, *, limit: int = 200) -> list[ContactMatch]:
        cursor = (
            self._docs.find({"status": "waiting"}, {"contact": 0}).sort("received_at", ASCENDING).limit(limit)
        )
        return [_contact_match(d) async for d in cursor]

    async def contact(self, match_id: str) -> Envelope[ContactRecorded] | None:
        doc = await self._docs.find_one({"_id": match_id}, {"contact": 1})
        return ContactEnvelope.model_validate_json(doc["contact"]) if doc else None

    async def resolve(self, match_id: str, *, child_id: str, by: str) -> bool:
        """Mark a waiting contact identified; False if it was not waiting (resolved already, or unknown)."""
        result = await self._docs.update_one(
            {"_id": match_id, "status": "waiting"},
            {"$set": {"status": "identified", "child_id": child_id, "resolved_by": by}},
        )
        return result.modified_count == 1

    async def reopen(self, match_id: str) -> None:
        """Undo `resolve` when the identification could not be published, so it is not lost."""
        await self._docs.update_one({"_id": match_id}, {"$set": {"status": "waiting", "child_id": None}})


def _match(doc: mongo.Document) -> PendingMatch:
    return PendingMatch.model_validate({**doc, "match_id": doc["_id"]})


def _contact_match(doc: mongo.Document) -> ContactMatch:
    doc["id"] = doc.pop("_id")
    return ContactMatch.model_validate(doc)
