"""Each child's access snapshot, kept by every service from `accounts.events`, so the policy is evaluated
locally with no call to accounts per request (issue 4, item 5).

`apply_event` is the one fold from account events to a `ChildAccess`; accounts itself uses it to compute the
state it stores, so every snapshot agrees with accounts by construction. `AccessSnapshots` stores one document
per child and applies events idempotently: an event whose `seq` is not above the stored one changes nothing,
and each write is conditional on the `seq` it was computed from (no transactions on FerretDB, BRIEF §5).

A service wires it in its composition root:

    snapshots = AccessSnapshots(runtime.db)
    runtime.on_start(snapshots.create_indexes)
    runtime.consume([topics.accounts_events], group="access", decode=decode_account_event,
                    handle=snapshots.on_account_events, title=...)
    decision = await snapshots.decide(principal, "read_chronology", child_id)

One consumer applies a given child's events at a time (the child's partition belongs to one group member), which
matters: FerretDB 1.24 loses one of two concurrent updates of a document, conditional or not, so the `seq`
condition guards against redeliveries and stale batches, not against two writers racing (see accounts.children.store).

`accounts.events` must be kept for as long as snapshots may need rebuilding (retention.ms=-1): a snapshot is
built from the child's whole history, starting at `child.registered`; without it the child stays unknown and
every decision about them is a refusal (fail closed).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from aiokafka import ConsumerRecord
from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt

from shared import mongo
from shared.contracts.accounts import (
    AccessDecisionRecorded,
    AccountEvent,
    BreakGlassUsed,
    ChildFlagsChanged,
    ChildRegistered,
    FamilyLinked,
    FamilyUnlinked,
    JoinApproved,
    JoinDeclined,
    JoinRequested,
    LeadHandedOver,
    MemberLeft,
    MemberRemoved,
    PersonRef,
)
from shared.events import Envelope
from shared.kafka.consumer import Incoming
from shared.policy import (
    Action,
    BreakGlassGrant,
    ChildAccess,
    Decision,
    FamilyLink,
    JoinRequest,
    Principal,
    TeamMember,
    decide,
)

log = logging.getLogger(__name__)

SNAPSHOTS = "child_access"
STALE = "stale"  # on a snapshot document: why it is refused until rebuilt
_CONFLICT_RETRIES = 5


class SnapshotConflict(Exception):
    """Another writer changed the snapshot between our read and our conditional write."""


def _member(person: PersonRef, at: datetime) -> TeamMember:
    return TeamMember(
        person_id=person.person_id,
        name=person.name,
        kind=person.kind,
        agency=person.agency,
        role=person.role,
        contact=person.contact,
        sensitive_service=person.sensitive_service,
        joined_at=at,
    )


class AccessGap(Exception):
    """An account event cannot be applied: the events before it were never seen here. Applying it anyway
    could serve stale access (a missed `member.removed`), so the snapshot is rebuilt or refused instead."""

    def __init__(self, child_id: str, *, have: int | None, got: int) -> None:
        before = f"seq {have}" if have is not None else "no registration"
        super().__init__(f"account events of {child_id} jump from {before} to seq {got}")
        self.child_id = child_id


def apply_event(access: ChildAccess | None, event: AccountEvent) -> ChildAccess | None:
    """The child's snapshot after `event`. Events at or below the snapshot's `seq` change nothing (they were
    applied already); an event that does not follow the snapshot's `seq` raises `AccessGap`."""
    if access is not None and event.seq <= access.seq:
        return access
    if isinstance(event, ChildRegistered) and access is None and event.seq == 1:
        return ChildAccess(
            child_id=event.child_id,
            seq=event.seq,
            display_name=f"{event.given_name} {event.family_name}",
            lead_id=event.lead.person_id,
            lead_agency=event.lead.agency,
            members=(_member(event.lead, event.at),),
            shielded=event.shielded,
            sensitive_service=event.sensitive_service,
        )
    if access is None or event.seq != access.seq + 1:
        raise AccessGap(event.child_id, have=access.seq if access else None, got=event.seq)
    return access.model_copy(update={"seq": event.seq, **_changes(access, event)})


def _changes(access: ChildAccess, event: AccountEvent) -> dict[str, Any]:
    members = access.members
    pending = access.pending
    if isinstance(event, JoinRequested):
        request = JoinRequest(
            request_id=event.request_id,
            person_id=event.person.person_id,
            name=event.person.name,
            kind=event.person.kind,
            agency=event.person.agency,
            role=event.person.role,
            contact=event.person.contact,
            sensitive_service=event.person.sensitive_service,
            reason=event.reason,
            requested_at=event.at,
        )
        return {"pending": (*(r for r in pending if r.person_id != request.person_id), request)}
    if isinstance(event, JoinApproved):
        rest = tuple(r for r in pending if r.request_id != event.request_id)
        if access.member(event.person.person_id):
            return {"pending": rest}
        return {"pending": rest, "members": (*members, _member(event.person, event.at))}
    if isinstance(event, JoinDeclined):
        return {"pending": tuple(r for r in pending if r.request_id != event.request_id)}
    if isinstance(event, MemberLeft | MemberRemoved):
        return {"members": tuple(m for m in members if m.person_id != event.person_id)}
    if isinstance(event, LeadHandedOver):
        new_lead = event.to
        if not access.member(new_lead.person_id):
            members = (*members, _member(new_lead, event.at))
        return {"lead_id": new_lead.person_id, "lead_agency": new_lead.agency, "members": members}
    if isinstance(event, FamilyLinked):
        link = FamilyLink(
            person_id=event.person_id,
            name=event.name,
            relationship=event.relationship,
            linked_at=event.at,
            views_shown_to_family=event.views_shown_to_family,
        )
        return {"family": (*(f for f in access.family if f.person_id != event.person_id), link)}
    if isinstance(event, FamilyUnlinked):
        return {"family": tuple(f for f in access.family if f.person_id != event.person_id)}
    if isinstance(event, BreakGlassUsed):
        grant = BreakGlassGrant(
            grant_id=event.grant_id,
            person_id=event.person.person_id,
            name=event.person.name,
            agency=event.person.agency,
            role=event.person.role,
            reason=event.reason,
            granted_at=event.at,
            expires_at=event.expires_at,
        )
        live = tuple(g for g in access.break_glass if g.expires_at > event.at)  # keep the snapshot bounded
        return {"break_glass": (*live, grant)}
    if isinstance(event, ChildFlagsChanged):
        return {"shielded": event.shielded, "sensitive_service": event.sensitive_service}
    if isinstance(event, AccessDecisionRecorded):
        return {}
    raise TypeError(f"no rule to apply {type(event).__name__}")


def fold(access: ChildAccess | None, events: Sequence[AccountEvent]) -> ChildAccess | None:
    for event in events:
        access = apply_event(access, event)
    return access


def to_document(access: ChildAccess) -> mongo.Document:
    doc = access.model_dump(mode="python")
    doc["_id"] = doc.pop("child_id")
    doc["people"] = access.people()
    return doc


def from_document(doc: mongo.Document) -> ChildAccess:
    data = {k: v for k, v in doc.items() if k not in ("_id", "people")}
    return ChildAccess.model_validate({**data, "child_id": doc["_id"]})


class SnapshotStale(Exception):
    """This service's copy of the child's access missed a change; it is refused until rebuilt (fail closed)."""


class HistoryIncomplete(Exception):
    """The child's history cannot be read whole (an event in it cannot be decoded)."""


class AccountHistory(Protocol):
    async def events_of(self, child_id: str) -> list[AccountEvent]:
        """Every account event of the child that accounts published, in `seq` order; `HistoryIncomplete`
        when one of them cannot be read."""
        ...


class SnapshotStore(Protocol):
    """What a composition root and the guard need of a snapshot store: `AccessSnapshots` here, an in-memory
    one in unit tests."""

    async def create_indexes(self) -> None: ...

    async def get(self, child_id: str) -> ChildAccess | None:
        """The child's access, None if unknown; `SnapshotStale` while it awaits a rebuild."""
        ...

    async def decide(
        self, principal: Principal, action: Action, child_id: str, *, now: datetime | None = None
    ) -> Decision:
        """The policy's decision about `child_id` from the local snapshot."""
        ...

    async def on_account_events(self, batch: Sequence[Incoming[Envelope[AccountEvent]]]) -> None:
        """Apply a batch from `accounts.events` idempotently."""
        ...

    async def on_dead_letter(self, record: ConsumerRecord[Any, Any], reason: str) -> None:
        """One of the child's account events was dead-lettered: refuse the child until rebuilt."""
        ...


class AccessSnapshots:
    """The snapshot store a service keeps in its own database.

    A child's snapshot that missed a change — a gap in its events, or one of its events dead-lettered — is
    marked stale and refused (`SnapshotStale`, 503) rather than served. It is rebuilt from `history` (the
    child's events as accounts published them) as soon as it is found stale, and again whenever another of
    the child's events arrives; only the consumer of the child's partition writes it, so the rebuild never
    races the fold (FerretDB 1.24 loses concurrent updates, see above).
    """

    def __init__(
        self,
        db: AsyncDatabase[mongo.Document],
        *,
        history: AccountHistory | None = None,
        collection: str = SNAPSHOTS,
    ) -> None:
        self._db = db
        self._docs = db[collection]
        self._collection = collection
        self._history = history

    async def create_indexes(self) -> None:
        await mongo.ensure_indexes(self._db, {self._collection: [IndexModel([("people", ASCENDING)])]})

    async def get(self, child_id: str) -> ChildAccess | None:
        doc = await self._docs.find_one({"_id": child_id})
        if doc is not None and STALE in doc:
            raise SnapshotStale(
                "this service is rebuilding its copy of who may see this child after a missed change; "
                "try again shortly"
            )
        return from_document(doc) if doc else None

    async def children_of(self, person_id: str, *, limit: int = 500) -> list[ChildAccess]:
        """The children a person is a team member or family member of (none whose snapshot is stale)."""
        cursor = self._docs.find({"people": person_id, STALE: {"$exists": False}}).limit(limit)
        return [from_document(d) async for d in cursor]

    async def decide(
        self, principal: Principal, action: Action, child_id: str, *, now: datetime | None = None
    ) -> Decision:
        """The policy's decision about `child_id` from the local snapshot; `SnapshotStale` while stale."""
        return decide(principal, action, await self.get(child_id), now=now or datetime.now(UTC))

    async def apply(self, events: Sequence[AccountEvent]) -> int:
        """Apply account events (in the order given, which is each child's order); returns how many children
        changed. Safe to call twice with the same events."""
        by_child: dict[str, list[AccountEvent]] = {}
        for event in events:
            by_child.setdefault(event.child_id, []).append(event)
        changed = 0
        for child_id, child_events in by_child.items():
            changed += await self._apply_one(child_id, child_events)
        return changed

    async def on_account_events(self, batch: Sequence[Incoming[Envelope[AccountEvent]]]) -> None:
        """Membership, family and break-glass changes update the child's access snapshot; redeliveries and
        events already applied change nothing; a gap marks the snapshot stale until it is rebuilt."""
        await self.apply([i.event.data for i in batch])

    async def on_dead_letter(self, record: ConsumerRecord[Any, Any], reason: str) -> None:
        """One of the child's account events was dead-lettered: the snapshot missed it, so it is stale."""
        key = record.key
        if not isinstance(key, bytes) or not key:
            log.error("an account event without a child key was dead-lettered; no snapshot can be marked")
            return
        child_id = key.decode(errors="replace")
        await self._mark_stale(child_id, f"an account event could not be applied: {reason}")
        await self._rebuild(child_id)

    async def _apply_one(self, child_id: str, events: Sequence[AccountEvent]) -> int:
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(_CONFLICT_RETRIES),
                retry=retry_if_exception_type(SnapshotConflict),
                reraise=True,
            ):
                with attempt:
                    return await self._try_apply(child_id, events)
        except SnapshotConflict as err:
            raise RuntimeError(
                f"access snapshot of {child_id} kept changing under us; the batch will be retried"
            ) from err
        raise AssertionError("unreachable: tenacity either returns or re-raises")

    async def _try_apply(self, child_id: str, events: Sequence[AccountEvent]) -> int:
        doc = await self._docs.find_one({"_id": child_id})
        if doc is not None and STALE in doc:
            return await self._rebuild(child_id)
        before = from_document(doc) if doc else None
        try:
            after = fold(before, events)
        except AccessGap as gap:
            log.warning("gap in a child's account events; rebuilding", extra={"fields": {"gap": str(gap)}})
            await self._mark_stale(child_id, str(gap))
            return await self._rebuild(child_id)
        if after is None or after == before:
            return 0
        new = to_document(after)
        if before is None:
            try:
                await self._docs.insert_one(new)
            except DuplicateKeyError as err:
                raise SnapshotConflict from err  # another consumer created it meanwhile: fold onto theirs
            return 1
        result = await self._docs.update_one({"_id": child_id, "seq": before.seq}, {"$set": new})
        if not result.matched_count:
            raise SnapshotConflict
        return 1

    async def _mark_stale(self, child_id: str, reason: str) -> None:
        await self._docs.update_one({"_id": child_id}, {"$set": {STALE: reason[:2000]}}, upsert=True)

    async def _rebuild(self, child_id: str) -> int:
        """Replace a stale snapshot with the fold of the child's whole history; it stays stale (and refused)
        when the history itself has a gap or cannot be read now."""
        if self._history is None:
            return 0
        try:
            access = fold(None, await self._history.events_of(child_id))
        except AccessGap as gap:
            await self._mark_stale(child_id, f"the history itself has a gap: {gap}")
            return 0
        except HistoryIncomplete as err:  # an event that cannot be read: never fold around it
            await self._mark_stale(child_id, str(err))
            return 0
        except Exception as err:  # the broker is away: stay stale (refused), retried with the next event
            log.warning("could not rebuild an access snapshot yet: %s", err)
            return 0
        if access is None:
            return 0
        await self._docs.replace_one({"_id": child_id}, to_document(access), upsert=True)
        log.info("access snapshot rebuilt", extra={"fields": {"child_id": child_id, "seq": access.seq}})
        return 1
