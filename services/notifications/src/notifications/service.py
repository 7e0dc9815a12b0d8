"""Use cases: write the notifications a rule raised (once per person per event), read a person's inbox as
they may see it now, mark read, and keep preferences."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

from notifications.delivery import Access, Hub
from notifications.models import (
    KINDS,
    TITLES,
    Alert,
    ChangesPage,
    ChildChanges,
    InboxPage,
    NotificationRead,
    Preferences,
    PreferencesUpdate,
    Recipient,
    default_preferences,
    notification_id,
)
from notifications.store import NotificationStore
from shared import mongo
from shared.policy import Principal

_SEQ_RETRIES = 5
UNREAD_LIMIT = 1000  # unread notifications counted; a person with more sees "1000+"
CHANGES_LIMIT = 100  # notifications counted per child since the last look; more shows "100+"


class SeqConflict(Exception):
    """Another writer kept taking the places in a person's inbox we were about to use."""


class Inboxes:
    """Writes notifications into inboxes: one per (event, person), each at the next place in the person's inbox.

    One writer per process (a lock) keeps the places in order; another replica writing the same person's
    inbox meets the unique (person, seq) index, and the losing notifications are written again at fresh
    places. A redelivered notification is found by its `_id` when it is written (no lookup first: `$in` costs
    a scan of the whole collection on FerretDB 1.24, BRIEF §5), so it leaves its place unused: places only
    ever go up, and the live stream reads past a gap."""

    def __init__(self, store: NotificationStore, hub: Hub, *, web_base_url: str) -> None:
        self._store = store
        self._hub = hub
        self._web = web_base_url.rstrip("/")
        self._lock = asyncio.Lock()
        self._last: dict[str, int] = {}

    async def deliver(self, alerts: Sequence[Alert], *, now: datetime | None = None) -> list[mongo.Document]:
        """Store the notifications `alerts` raise; returns those written now (a redelivery writes none)."""
        docs = _collapse(
            self._doc(alert, r, now or datetime.now(UTC)) for alert in alerts for r in alert.recipients
        )
        if not docs:
            return []
        async with self._lock:
            written = await self._write(docs)
        await self._queue_emails(written)
        self._hub.publish(written)
        return written

    def _doc(self, alert: Alert, r: Recipient, now: datetime) -> mongo.Document:
        return {
            "_id": notification_id(alert.event_id, r.person_id),
            "person_id": r.person_id,
            "event_id": alert.event_id,
            "kind": alert.kind,
            "child_id": alert.child_id,
            "child_initials": alert.child_initials,
            "path": alert.path,
            "at": alert.at,
            "created_at": now,
            "read": False,
            "urgent": alert.urgent,
            "action": alert.action,
            "restricted": alert.restricted,
            "recipient": {"kind": r.kind, "agency": r.agency, "role": r.role, "contact": r.contact},
        }

    async def _write(self, docs: list[mongo.Document]) -> list[mongo.Document]:
        written: list[mongo.Document] = []
        todo = docs
        for _ in range(_SEQ_RETRIES):
            for doc in todo:
                person = doc["person_id"]
                if person not in self._last:
                    self._last[person] = await self._store.last_seq(person)
                self._last[person] += 1
                doc["seq"] = self._last[person]
            result = await self._store.add(todo)
            dups = set(result.duplicate_ids)
            written += [d for d in todo if d["_id"] not in dups]
            if not dups:
                return written
            stored = await self._store.existing(sorted(dups))  # redeliveries: their notification is there
            todo = [d for d in todo if d["_id"] in dups and d["_id"] not in stored]
            if not todo:
                return written
            for doc in todo:  # another replica took these places: ask the inbox again
                self._last.pop(doc["person_id"], None)
        raise SeqConflict("could not find free places in the inboxes; the batch will be retried")

    async def _queue_emails(self, written: Sequence[mongo.Document]) -> None:
        emails = []
        prefs: dict[str, Preferences] = {}
        for doc in written:
            person = doc["person_id"]
            if person not in prefs:
                prefs[person] = await preferences_of(
                    self._store, person, doc["recipient"].get("kind") or "practitioner"
                )
            contact = doc["recipient"].get("contact") or ""
            wanted = doc["urgent"] or prefs[person].allows(doc["kind"], "email")
            if wanted and "@" in contact:
                emails.append(_email_doc(doc, contact, self._web))
        await self._store.queue_emails(emails)


def _collapse(docs: object) -> list[mongo.Document]:
    """One notification per id: two alerts of one event for the same person are one notification."""
    by_id: dict[str, mongo.Document] = {}
    for doc in docs:  # type: ignore[attr-defined]
        by_id.setdefault(doc["_id"], doc)
    return list(by_id.values())


def _email_doc(doc: mongo.Document, to: str, web: str) -> mongo.Document:
    return {
        "_id": f"n:{doc['_id']}",
        "to": to,
        "person_id": doc["person_id"],
        "child_id": doc["child_id"],
        "action": doc["action"],
        "restricted": doc["restricted"],
        "recipient": doc["recipient"],
        "subject": f"Safeguarding 2.0: {TITLES[doc['kind']]}",
        "body": email_body(TITLES[doc["kind"]], doc["child_initials"], web),
        "state": "pending",
        "attempts": 0,
        "due_at": doc["created_at"],
    }


def email_body(title: str, child_initials: str, web: str) -> str:
    """What an email says: the kind of event, the child's initials, a link. Nothing else about the case."""
    about = f" about {child_initials}" if child_initials else ""
    return (
        f"{title}{about}.\n\n"
        f"Sign in to read it: {web}/notifications\n\n"
        "This email carries no case details. Do not forward it.\n"
    )


def to_read(doc: mongo.Document) -> NotificationRead:
    return NotificationRead(
        id=doc["_id"],
        seq=doc["seq"],
        kind=doc["kind"],
        title=TITLES[doc["kind"]],
        child_id=doc["child_id"],
        child_initials=doc["child_initials"],
        link=doc["path"] or "/notifications",
        at=doc["at"],
        created_at=doc["created_at"],
        read=bool(doc["read"]),
        urgent=bool(doc.get("urgent")),
    )


async def preferences_of(store: NotificationStore, person_id: str, principal_kind: str) -> Preferences:
    """The person's preferences, or their role's defaults."""
    doc = await store.preferences(person_id)
    if doc is None:
        return default_preferences(principal_kind)
    return Preferences(channels=doc["channels"], customised=True)


async def set_preferences(
    *, store: NotificationStore, principal: Principal, update: PreferencesUpdate
) -> Preferences:
    """Replace the person's preferences; kinds left out get no channel."""
    channels = {kind: sorted(set(update.channels.get(kind, []))) for kind in KINDS}
    await store.set_preferences(principal.subject, {"channels": channels})
    return Preferences(channels=channels, customised=True)


async def _shown(
    store: NotificationStore, access: Access, principal: Principal, docs: list[mongo.Document]
) -> list[mongo.Document]:
    prefs = await preferences_of(store, principal.subject, principal.kind)
    visible = await access.visible(principal, docs)
    return [d for d in visible if d.get("urgent") or prefs.allows(d["kind"], "in_app")]


async def unread_count(*, store: NotificationStore, access: Access, principal: Principal) -> int:
    """How many unread notifications the person may see now."""
    docs = await store.unread(principal.subject, limit=UNREAD_LIMIT)
    return len(await _shown(store, access, principal, docs))


async def read_inbox(
    *, store: NotificationStore, access: Access, principal: Principal, limit: int, before_seq: int | None
) -> InboxPage:
    """The person's newest notifications that they may see now, with their unread count."""
    docs = await store.newest(principal.subject, limit=limit, before_seq=before_seq)
    shown = await _shown(store, access, principal, docs)
    unread = await unread_count(store=store, access=access, principal=principal)
    return InboxPage(notifications=[to_read(d) for d in shown], unread=unread)


async def mark_read(*, store: NotificationStore, principal: Principal, ids: Sequence[str] | None) -> int:
    """Mark the person's own notifications read (all of them if `ids` is None); others' are never touched."""
    return await store.mark_read(principal.subject, ids, datetime.now(UTC))


async def changes_since_last_look(
    *, store: NotificationStore, access: Access, principal: Principal, child_ids: Sequence[str]
) -> ChangesPage:
    """For each of these children the person may see now: when they last opened its record, and the
    notifications about it since then that they may see now, by kind. A few reads per child, whatever the
    size of the inbox (an index on person, child and time)."""
    children = await access.viewable(principal, list(dict.fromkeys(child_ids)))
    looks = await store.looks_of(principal.subject, children)
    found = await asyncio.gather(
        *(store.about_since(principal.subject, c, looks.get(c), limit=CHANGES_LIMIT + 1) for c in children)
    )
    shown = {d["_id"] for d in await _shown(store, access, principal, [d for docs in found for d in docs])}
    page = []
    for child_id, docs in zip(children, found, strict=True):
        counted = [d for d in docs[:CHANGES_LIMIT] if d["_id"] in shown]
        new: dict[str, int] = {}
        for doc in counted:
            new[doc["kind"]] = new.get(doc["kind"], 0) + 1
        page.append(
            ChildChanges(
                child_id=child_id,
                last_looked_at=looks.get(child_id),
                new=new,
                total=len(counted),
                more=len(docs) > CHANGES_LIMIT,
            )
        )
    return ChangesPage(children=page)
