"""Which child was a contact about, when the agency had no NHS number for them? (BRIEF §3, "Identity")

Accounts reads every agency topic. A contact with an NHS number needs nothing from here. One without is
matched on name + date of birth + postcode against the children with accounts: exactly one exact match →
`contact.identified` on `identity.events` at once; anything less certain → the contact waits here, stored,
until a manager says which child it was about (never merged silently). Chronology and analytics take these
contacts from `identity.events` only, so nothing lands under a wrong child and nothing is lost.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel
from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from accounts.domain import ChildDetails, match_child
from accounts.store import AccountsStore
from shared import mongo
from shared.contracts.contacts import ContactEnvelope, ContactRecorded
from shared.contracts.identity import ContactIdentified, contact_identified
from shared.events import Envelope

CONTACT_MATCHES = "contact_matches"
Publish = Callable[[Envelope[ContactIdentified]], Awaitable[None]]


class ContactMatch(BaseModel):
    """A contact waiting for a person to say which child it was about."""

    id: str  # the contact event's id
    status: Literal["waiting", "identified"]
    agency: str
    given_name: str
    family_name: str
    date_of_birth: str
    postcode: str
    occurred_at: datetime
    candidates: list[str]
    received_at: datetime
    child_id: str | None = None
    resolved_by: str | None = None


class UnknownChild(LookupError):
    """The child named in a resolution has no account."""


class AlreadyResolved(Exception):
    """Someone resolved this contact first."""


class ContactMatchStore:
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
        return [_match(d) async for d in cursor]

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


def _match(doc: mongo.Document) -> ContactMatch:
    doc["id"] = doc.pop("_id")
    return ContactMatch.model_validate(doc)


async def identify_contacts(
    *,
    children: AccountsStore,
    matches: ContactMatchStore,
    publish: Publish,
    events: Sequence[Envelope[ContactRecorded]],
) -> tuple[int, int]:
    """Identify contacts without an NHS number; returns (identified now, left waiting for a person)."""
    identified, held = 0, []
    for event in events:
        who = event.data.child
        if who.nhs_number or not (who.given_name and who.family_name and who.date_of_birth and who.postcode):
            continue
        details = ChildDetails(
            given_name=who.given_name,
            family_name=who.family_name,
            date_of_birth=who.date_of_birth,
            postcode=who.postcode,
        )
        outcome = match_child(details, await children.candidates(details))
        if outcome.kind == "match":
            child_id = outcome.child_ids[0]
            await publish(
                contact_identified(ContactIdentified(child_id=child_id, how="exact_match", contact=event))
            )
            identified += 1
            continue
        held.append(
            (
                ContactMatch(
                    id=event.id,
                    status="waiting",
                    agency=event.data.agency,
                    given_name=who.given_name,
                    family_name=who.family_name,
                    date_of_birth=who.date_of_birth.isoformat(),
                    postcode=who.postcode,
                    occurred_at=event.data.occurred_at,
                    candidates=list(outcome.child_ids),
                    received_at=datetime.now(UTC),
                ),
                event.model_dump_json(),
            )
        )
    return identified, await matches.hold(held) if held else 0


async def confirm_contact(
    *,
    children: AccountsStore,
    matches: ContactMatchStore,
    publish: Publish,
    match_id: str,
    child_id: str,
    by: str,
) -> ContactIdentified:
    """A person says which child a waiting contact was about; it then flows on to that child's account."""
    if await children.child(child_id) is None:
        raise UnknownChild(f"there is no child {child_id}")
    contact = await matches.contact(match_id)
    if contact is None:
        raise LookupError(f"there is no waiting contact {match_id}")
    if not await matches.resolve(match_id, child_id=child_id, by=by):
        raise AlreadyResolved("this contact was identified already")
    data = ContactIdentified(child_id=child_id, how="confirmed_by_person", confirmed_by=by, contact=contact)
    try:
        await publish(contact_identified(data))
    except Exception:
        await matches.reopen(match_id)  # not published: leave it waiting rather than lose it
        raise
    return data
