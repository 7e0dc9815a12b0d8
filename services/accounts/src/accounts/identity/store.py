"""What waits for a person in accounts' MongoDB database: registrations that may be a known child, and
agency contacts without an NHS number that no child matched exactly.

A pending match is resolved by inserting its resolution keyed by the match id, so only the first resolver
wins (an insert is the one atomic write on FerretDB 1.24, see `accounts.children.store`); the match document
is then marked for reading.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from accounts.identity.models import ContactMatch, PendingMatch
from shared import mongo
from shared.contracts.contacts import ContactEnvelope, ContactRecorded
from shared.contracts.identity import ContactIdentified
from shared.events import Envelope

MATCHES = "pending_matches"
RESOLUTIONS = "match_resolutions"
CONTACT_MATCHES = "contact_matches"
CONTACT_RESOLUTIONS = "contact_resolutions"


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
    """Agency contacts waiting for a person to say which child each was about, and their resolutions.

    A resolution is one insert into `contact_resolutions`, keyed by the contact's id and holding the
    `contact.identified` event to publish: the first resolver wins (the insert is atomic, a conditional update
    is not on FerretDB 1.24), and the resolution and its event cannot part — it is its own outbox entry,
    published by the relay (`accounts.identity.outbox`). The contact's own document is marked afterwards, for
    reading; a resolution not yet marked there still counts as resolved.
    """

    def __init__(self, db: AsyncDatabase[mongo.Document]) -> None:
        self._db = db
        self._docs = db[CONTACT_MATCHES]
        self._resolutions = db[CONTACT_RESOLUTIONS]

    async def create_indexes(self) -> None:
        await mongo.ensure_indexes(
            self._db,
            {
                CONTACT_MATCHES: [IndexModel([("status", ASCENDING)])],
                CONTACT_RESOLUTIONS: [IndexModel([("published", ASCENDING), ("resolved_at", ASCENDING)])],
            },
        )

    async def hold(self, matches: Sequence[tuple[ContactMatch, str]]) -> int:
        """Keep contacts (with the agency's event as JSON) until resolved; one already held stays as it is."""
        docs = [{**m.model_dump(exclude={"id"}), "_id": m.id, "contact": raw} for m, raw in matches]
        return (await mongo.append_many(self._docs, docs)).inserted

    async def waiting(self, *, limit: int = 200) -> list[ContactMatch]:
        cursor = (
            self._docs.find({"status": "waiting"}, {"contact": 0}).sort("received_at", ASCENDING).limit(limit)
        )
        waiting = [_contact_match(d) async for d in cursor]
        resolved = {
            d["_id"]
            async for d in self._resolutions.find({"_id": {"$in": [w.id for w in waiting]}}, {"_id": 1})
        }
        return [w for w in waiting if w.id not in resolved]

    async def held(self, match_id: str) -> tuple[ContactMatch, Envelope[ContactRecorded]] | None:
        """A held contact (resolved or not) and the agency's event."""
        doc = await self._docs.find_one({"_id": match_id})
        if doc is None:
            return None
        raw = ContactEnvelope.model_validate_json(doc.pop("contact"))
        contact = _contact_match(doc)
        resolution = await self._resolutions.find_one({"_id": match_id})
        if resolution is not None and contact.status == "waiting":
            contact = contact.model_copy(update={"status": resolution["status"]})
        return contact, raw

    async def resolve(
        self,
        match_id: str,
        *,
        child_id: str | None,
        by: str,
        topic: str,
        event: Envelope[ContactIdentified] | None,
    ) -> bool:
        """Record the resolution with the event to publish (None: none of the candidates); False if another
        resolver was first."""
        status = "identified" if child_id else "no_match"
        doc: mongo.Document = {
            "_id": match_id,
            "status": status,
            "child_id": child_id,
            "resolved_by": by,
            "resolved_at": datetime.now(UTC),
            "published": event is None,  # nothing to publish for "none of these"
            "topic": topic,
            "event": event.model_dump_json() if event else None,
        }
        try:
            await self._resolutions.insert_one(doc)
        except DuplicateKeyError:
            return False
        await self._mark(match_id, status=status, child_id=child_id, by=by)
        return True

    async def _mark(self, match_id: str, *, status: str, child_id: str | None, by: str) -> None:
        await self._docs.update_one(
            {"_id": match_id}, {"$set": {"status": status, "child_id": child_id, "resolved_by": by}}
        )

    async def unpublished(self, *, limit: int) -> list[mongo.Document]:
        """Resolutions whose event has not reached the broker yet, oldest first."""
        cursor = self._resolutions.find({"published": False}).sort("resolved_at", ASCENDING).limit(limit)
        return [d async for d in cursor]

    async def mark_published(self, match_ids: Sequence[str]) -> None:
        await self._resolutions.update_many({"_id": {"$in": list(match_ids)}}, {"$set": {"published": True}})
        # A crash may have come between the resolution and marking its contact: mark it again.
        async for doc in self._resolutions.find({"_id": {"$in": list(match_ids)}}):
            await self._mark(
                doc["_id"], status=doc["status"], child_id=doc["child_id"], by=doc["resolved_by"]
            )

    async def set_aside(self, match_id: str, *, reason: str) -> None:
        await self._resolutions.update_one(
            {"_id": match_id}, {"$set": {"published": "set_aside", "set_aside_reason": reason}}
        )


def _match(doc: mongo.Document) -> PendingMatch:
    return PendingMatch.model_validate({**doc, "match_id": doc["_id"]})


def _contact_match(doc: mongo.Document) -> ContactMatch:
    doc["id"] = doc.pop("_id")
    return ContactMatch.model_validate(doc)
