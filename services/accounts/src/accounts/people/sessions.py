"""Sign-in sessions and their refresh tokens, in accounts' MongoDB database.

A session begins at sign-in and lasts at most `session_hours`; every access token issued in it carries its id
(`sid`). Its refresh token is `<session id>.<secret>`; only a SHA-256 of the secret is stored (the secret is
256 random bits, so a fast hash is enough). Each refresh rotates the secret: the one presented must be the
current one, and a conditional `$set` on it makes a second use of the same secret lose (FerretDB 1.24 has no
transactions, but a single-document conditional update is atomic).

A secret that was already rotated away, presented again after a short grace, means two holders of the same
refresh token (OAuth 2.0 Security BCP, "refresh token rotation"): the session is ended, and so is everything
issued in it. Within the grace (two tabs refreshing at once) the late one is only refused.

Ending a session is one conditional `$set` that also stores the `session.ended` event for the relay
(`shared.outbox.DocumentOutbox` on this collection), so the end and its event cannot part.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from pymongo.asynchronous.database import AsyncDatabase

from shared import mongo
from shared.events import Envelope
from shared.outbox import PENDING_INDEX, DocumentOutbox, outbox_fields

SESSIONS = "sessions"
REUSE_GRACE = timedelta(seconds=10)

Refreshed = Literal["rotated", "unknown", "ended", "expired", "raced", "reused"]


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Session:
    session_id: str
    person_id: str
    started_at: datetime
    expires_at: datetime
    ended_at: datetime | None


@dataclass(frozen=True)
class Rotation:
    """What a refresh found: the outcome, the session (if there is one) and the new refresh token."""

    outcome: Refreshed
    session: Session | None = None
    refresh_token: str | None = None


def split_refresh_token(token: str) -> tuple[str, str] | None:
    session_id, _, secret = token.partition(".")
    return (session_id, secret) if session_id and secret else None


class SessionStore:
    def __init__(self, db: AsyncDatabase[mongo.Document]) -> None:
        self._db = db
        self._docs = db[SESSIONS]
        self.outbox = DocumentOutbox(self._docs)

    async def create_indexes(self) -> None:
        await mongo.ensure_indexes(self._db, {SESSIONS: [PENDING_INDEX]})

    async def start(self, person_id: str, *, now: datetime, lasts: timedelta) -> tuple[Session, str]:
        """A new session for the person, and its first refresh token."""
        session_id = f"s-{uuid.uuid4().hex}"
        secret = secrets.token_urlsafe(32)
        session = Session(session_id, person_id, now, now + lasts, None)
        await self._docs.insert_one(
            {
                "_id": session_id,
                "person_id": person_id,
                "started_at": now,
                "expires_at": session.expires_at,
                "ended_at": None,
                "secret": _digest(secret),
                "previous": None,
                "rotated_at": now,
            }
        )
        return session, f"{session_id}.{secret}"

    async def session(self, session_id: str) -> Session | None:
        doc = await self._docs.find_one({"_id": session_id})
        return _session(doc) if doc else None

    async def rotate(self, refresh_token: str, *, now: datetime) -> Rotation:
        """Swap the presented refresh token for a new one, if it is the session's current one."""
        parts = split_refresh_token(refresh_token)
        doc = await self._docs.find_one({"_id": parts[0]}) if parts else None
        if parts is None or doc is None:
            return Rotation("unknown")
        session = _session(doc)
        presented = _digest(parts[1])
        if session.ended_at is not None:
            return Rotation("ended", session)
        if session.expires_at <= now:
            return Rotation("expired", session)
        if not hmac.compare_digest(presented, str(doc["secret"])):
            previous = doc.get("previous")
            recent = doc["rotated_at"] + REUSE_GRACE > now
            if previous and hmac.compare_digest(presented, str(previous)) and recent:
                return Rotation("raced", session)
            return Rotation("reused", session)
        secret = secrets.token_urlsafe(32)
        result = await self._docs.update_one(
            {"_id": session.session_id, "secret": presented, "ended_at": None},
            {"$set": {"secret": _digest(secret), "previous": presented, "rotated_at": now}},
        )
        if result.modified_count != 1:
            return Rotation("raced", session)
        return Rotation("rotated", session, f"{session.session_id}.{secret}")

    async def end(self, session_id: str, *, now: datetime, topic: str, event: Envelope[Any]) -> bool:
        """End the session, with the event that says so; False if it had ended already."""
        result = await self._docs.update_one(
            {"_id": session_id, "ended_at": None},
            {"$set": {"ended_at": now, **outbox_fields(topic, event)}},
        )
        return result.modified_count == 1


def _session(doc: mongo.Document) -> Session:
    return Session(
        session_id=str(doc["_id"]),
        person_id=str(doc["person_id"]),
        started_at=doc["started_at"],
        expires_at=doc["expires_at"],
        ended_at=doc.get("ended_at"),
    )
