"""Children's accounts in MongoDB: each account's log of commits (also its outbox), and a projection to query.

FerretDB 1.24 applies an update by reading the document, changing it and writing it back without a lock, so
two concurrent updates of one document lose one of them — a conditional `update_one`, `find_one_and_update`
and even `$inc` (measured here: 8 writers x 30 `$inc` left 121 of 240). Only an insert is atomic, through the
unique `_id`. So a child's account is a log of **commits**, each inserted with `_id = "<child>:<seq>"` (the
first event's sequence number): two changes made from the same state collide on that `_id`, one wins and the
other is retried from the new state. A commit holds the change's events, which are also its outbox: the relay
(`accounts.outbox`) publishes unpublished commits in order and marks them published. No transaction is needed
and an accepted change is never lost between MongoDB and Kafka (BRIEF §5).

The `children` collection is a projection of the commits, for queries (by NHS number, name and date of birth,
person, lead). It is written after each commit and refreshed by the relay; it may lag or, after two racing
writes, step back — so reading a child always folds any newer commits onto it, and decisions never use a
stale state. FerretDB also ignores `$pull` with a condition (the update matches and changes nothing): nothing
here uses it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from accounts.children.models import Child, ChildDetails, name_key
from shared import mongo
from shared.access import fold
from shared.access import from_document as access_from_document
from shared.access import to_document as access_to_document
from shared.contracts.accounts import AccountEvent, decode_account_event
from shared.events import Envelope
from shared.policy import ChildAccess

CHILDREN = "children"
COMMITS = "commits"
INDEXES = {
    COMMITS: [
        IndexModel([("child_id", ASCENDING), ("last_seq", ASCENDING)]),
        IndexModel([("published", ASCENDING), ("child_id", ASCENDING), ("seq", ASCENDING)]),
    ],
    CHILDREN: [
        IndexModel([("nhs_key", ASCENDING)]),
        IndexModel([("dob", ASCENDING), ("name_key", ASCENDING)]),
        IndexModel([("people", ASCENDING)]),
        IndexModel([("lead_id", ASCENDING), ("has_pending", ASCENDING)]),
        IndexModel([("lead_agency", ASCENDING), ("has_pending", ASCENDING)]),
    ],
}
log = logging.getLogger(__name__)


class OutboxEntry(BaseModel):
    """One event of a commit, serialised once when the change was saved; published as it is."""

    model_config = ConfigDict(frozen=True)

    id: str
    seq: int
    topic: str
    type: str
    key: str
    payload: str


def outbox_entry(topic: str, envelope: Envelope[AccountEvent]) -> OutboxEntry:
    return OutboxEntry(
        id=envelope.id,
        seq=envelope.data.seq,
        topic=topic,
        type=envelope.type,
        key=envelope.subject,
        payload=envelope.model_dump_json(),
    )


class Commit(BaseModel):
    """One accepted change to a child's account: its events, in order."""

    model_config = ConfigDict(frozen=True)

    id: str
    child_id: str
    seq: int
    last_seq: int
    events: tuple[OutboxEntry, ...]
    published: bool = False


@dataclass(frozen=True)
class UnreadableCommit:
    """A commit document the relay cannot read (it is set aside, not published, and never blocks the rest)."""

    id: str
    child_id: str | None
    reason: str


class ChildStore:
    """The children's accounts: commits, the projection, and the queries on it."""

    def __init__(self, db: AsyncDatabase[mongo.Document]) -> None:
        self._db = db
        self._children = db[CHILDREN]
        self._commits = db[COMMITS]

    async def create_indexes(self) -> None:
        await mongo.ensure_indexes(self._db, INDEXES)

    async def commit(
        self,
        *,
        child_id: str,
        before: Child | None,
        after: ChildAccess,
        events: Sequence[OutboxEntry],
        details: ChildDetails | None = None,
        created_at: datetime | None = None,
    ) -> Child | None:
        """Record a change made from `before` (None: the account's first); returns the new state, or None if
        another change was recorded from the same state first (read again and retry)."""
        first = (before.seq if before else 0) + 1
        doc: mongo.Document = {
            "_id": f"{child_id}:{first}",
            "child_id": child_id,
            "seq": first,
            "last_seq": after.seq,
            "events": [e.model_dump() for e in events],
            "published": False,
            "at": created_at or datetime.now(UTC),
        }
        if details is not None:
            doc["details"] = details.model_dump(mode="json")
        try:
            await self._commits.insert_one(doc)
        except DuplicateKeyError:
            return None
        if before is not None:
            child = before.model_copy(update={"access": after})
        else:
            assert details is not None and created_at is not None, "a first commit carries the details"
            child = Child(child_id=child_id, details=details, access=after, created_at=created_at)
        try:
            await self.project(child)
        except Exception as err:  # the commit stands; the relay refreshes the projection
            log.warning("projection of %s not written: %s", child_id, err)
        return child

    async def project(self, child: Child) -> None:
        """Write `child` to the projection unless it already holds this state or a later one."""
        doc = _child_doc(child)
        stored = await self._children.find_one({"_id": child.child_id}, {"seq": 1})
        if stored is not None and stored["seq"] >= child.seq:
            return
        if stored is None:
            try:
                await self._children.insert_one(doc)
                return
            except DuplicateKeyError:
                pass
        fields = {k: v for k, v in doc.items() if k != "_id"}
        await self._children.update_one({"_id": child.child_id, "seq": {"$lt": child.seq}}, {"$set": fields})

    async def child(self, child_id: str) -> Child | None:
        """The child's current state: the projection with any newer commits folded on. The projection and
        the child's latest commit are read at once (one round trip, not two); the commits after the
        projection only when it lags."""
        doc, latest = await asyncio.gather(
            self._children.find_one({"_id": child_id}),
            self._commits.find_one({"child_id": child_id}, {"last_seq": 1}, sort=[("last_seq", DESCENDING)]),
        )
        projected = _child(doc) if doc else None
        if latest is None or (projected is not None and latest["last_seq"] <= projected.seq):
            return projected
        newer = await self._commits_after(child_id, projected.seq if projected else 0)
        if not newer:
            return projected
        if projected is None:
            first = await self._commits.find_one({"_id": f"{child_id}:1"})
            if first is None or "details" not in first:
                return None
            details = ChildDetails.model_validate(first["details"])
            access = fold(None, _events(newer))
            if access is None:
                return None
            return Child(child_id=child_id, details=details, access=access, created_at=first["at"])
        access = fold(projected.access, _events(newer))
        assert access is not None
        return projected.model_copy(update={"access": access})

    async def commits(self, child_id: str) -> list[Commit]:
        """The child's whole history, in order."""
        return await self._commits_after(child_id, 0)

    async def _commits_after(self, child_id: str, seq: int) -> list[Commit]:
        cursor = self._commits.find({"child_id": child_id, "last_seq": {"$gt": seq}}).sort("seq", ASCENDING)
        return [_commit(d) async for d in cursor]

    async def refresh(self, child_id: str) -> None:
        """Bring the projection up to the commits (after a crash, or a racing write that stepped it back)."""
        child = await self.child(child_id)
        if child is not None:
            await self.project(child)

    async def unpublished(self, *, limit: int = 200) -> list[Commit | UnreadableCommit]:
        """Commits not yet on Kafka (and not set aside), each child's in order."""
        cursor = (
            self._commits.find({"published": False, "set_aside": {"$exists": False}})
            .sort([("child_id", ASCENDING), ("seq", ASCENDING)])
            .limit(limit)
        )
        return [_commit_or_unreadable(d) async for d in cursor]

    async def mark_published(self, commit_ids: Sequence[str]) -> None:
        # Only the relay changes a commit after its insert, and only this flag: a lost race sets it twice.
        await self._commits.update_many({"_id": {"$in": list(commit_ids)}}, {"$set": {"published": True}})

    async def set_aside(self, commit_id: str, *, reason: str) -> None:
        """Keep a commit that can never be published out of the relay's way, with the reason."""
        await self._commits.update_many({"_id": commit_id}, {"$set": {"set_aside": reason}})

    # --- queries on the projection ---

    async def candidates(self, details: ChildDetails, *, limit: int = 50) -> list[Child]:
        """Children who might be `details`: the same NHS number, or the same date of birth."""
        clauses: list[dict[str, Any]] = [{"dob": details.date_of_birth.isoformat()}]
        if details.nhs_number:
            clauses.append({"nhs_key": details.nhs_number})
        return [_child(d) for d in await mongo.find_any(self._children, clauses, limit=limit)]

    async def by_nhs_number(self, nhs_number: str) -> Child | None:
        doc = await self._children.find_one({"nhs_key": nhs_number}, {"_id": 1})
        return await self.child(str(doc["_id"])) if doc else None

    async def by_name_and_birth(
        self, *, given_name: str, family_name: str, date_of_birth: date, limit: int = 10
    ) -> list[Child]:
        query = {"dob": date_of_birth.isoformat(), "name_key": _name_key(given_name, family_name)}
        return await self._current(self._children.find(query, {"_id": 1}).limit(limit))

    async def children_of(self, person_id: str, *, limit: int = 500) -> list[Child]:
        return await self._current(self._children.find({"people": person_id}, {"_id": 1}).limit(limit))

    async def awaiting_decision(self, *, person_id: str, agency: str | None, limit: int = 200) -> list[Child]:
        """Children with join requests where `person_id` leads, is in the team, or manages in the lead's
        agency (the policy has the last word)."""
        clauses: list[dict[str, Any]] = [{"lead_id": person_id}, {"people": person_id}]
        if agency:
            clauses.append({"lead_agency": agency})
        pending = [{**clause, "has_pending": True} for clause in clauses]
        found = await mongo.find_any(self._children, pending, projection={"_id": 1}, limit=limit)
        return [c for c in [await self.child(str(d["_id"])) for d in found] if c is not None]

    async def _current(self, cursor: Any) -> list[Child]:
        ids = [str(d["_id"]) async for d in cursor]
        found = [await self.child(i) for i in ids]
        return [c for c in found if c is not None]


def _name_key(given_name: str, family_name: str) -> str:
    return f"{name_key(family_name)}|{name_key(given_name)}"


def _child_doc(child: Child) -> mongo.Document:
    details = child.details
    access = child.access
    snapshot = access_to_document(access)
    snapshot.pop("_id")
    people = snapshot.pop("people")
    return {
        "_id": child.child_id,
        "details": details.model_dump(mode="json"),
        "nhs_key": details.nhs_number or f"none:{child.child_id}",
        "dob": details.date_of_birth.isoformat(),
        "name_key": _name_key(details.given_name, details.family_name),
        "created_at": child.created_at,
        "access": snapshot,
        "seq": access.seq,
        "people": people,
        "lead_id": access.lead_id,
        "lead_agency": access.lead_agency,
        "has_pending": bool(access.pending),
    }


def _child(doc: mongo.Document) -> Child:
    access = access_from_document({**doc["access"], "_id": doc["_id"]})
    return Child(
        child_id=str(doc["_id"]),
        details=ChildDetails.model_validate(doc["details"]),
        access=access,
        created_at=doc["created_at"],
    )


def _commit(doc: mongo.Document) -> Commit:
    return Commit.model_validate({**doc, "id": doc["_id"]})


def _commit_or_unreadable(doc: mongo.Document) -> Commit | UnreadableCommit:
    try:
        return _commit(doc)
    except ValidationError as err:
        child_id = doc.get("child_id")
        return UnreadableCommit(
            id=str(doc["_id"]),
            child_id=child_id if isinstance(child_id, str) else None,
            reason=f"unreadable commit: {err}",
        )


def _events(commits: Sequence[Commit]) -> list[AccountEvent]:
    return [
        decode_account_event(entry.topic, entry.payload.encode()).data
        for commit in commits
        for entry in commit.events
    ]
