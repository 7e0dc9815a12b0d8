"""Email over SMTP (issue 13, item 3): the kind of event, the child's initials at most, and a link — no case
details. Queued emails are sent by one background task; a failure is retried with exponential backoff and,
after the last attempt, recorded as failed (state, attempts, the last error) and logged. Access is checked
again before each send: an email for someone who has since left the team is withheld.

The daily digest goes out once a day at the configured hour: per person, how many unread notifications of
each kind they chose for the digest arrived in the last day, and a link.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Protocol

from notifications.delivery import Access, recipient_principal
from notifications.models import TITLES
from notifications.service import preferences_of
from notifications.settings import NotificationsSettings
from notifications.store import NotificationStore
from shared import mongo
from shared.events import utc_now

Clock = Callable[[], datetime]

log = logging.getLogger(__name__)


class Mailer(Protocol):
    async def send(self, message: EmailMessage) -> None: ...


@dataclass(frozen=True)
class SmtpMailer:
    """Sends through the configured SMTP server (smtplib in a thread: one message at a time is plenty)."""

    settings: NotificationsSettings

    async def send(self, message: EmailMessage) -> None:
        await asyncio.to_thread(self._send, message)

    def _send(self, message: EmailMessage) -> None:
        s = self.settings
        with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_s) as smtp:
            if s.smtp_starttls:
                smtp.starttls()
            if s.smtp_user and s.smtp_password:
                smtp.login(s.smtp_user, s.smtp_password.get_secret_value())
            smtp.send_message(message)


def message_of(doc: mongo.Document, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = doc["to"]
    message["Subject"] = doc["subject"]
    message.set_content(doc["body"])
    return message


class EmailSender:
    """Sends due emails; retries with backoff, then records the failure."""

    def __init__(
        self,
        store: NotificationStore,
        access: Access,
        mailer: Mailer,
        settings: NotificationsSettings,
        *,
        clock: Clock = utc_now,
    ) -> None:
        self._store = store
        self._access = access
        self._mailer = mailer
        self._settings = settings
        self._clock = clock

    async def run(self) -> None:
        """Send due emails forever, every `email_poll_s`."""
        while True:
            try:
                await self.send_due()
            except Exception:
                log.exception("sending emails failed; trying again shortly")
            await asyncio.sleep(self._settings.email_poll_s)

    async def send_due(self, now: datetime | None = None) -> int:
        """Send what is due now; returns how many were sent."""
        now = now or self._clock()
        sent = 0
        for doc in await self._store.due_emails(now, limit=100):
            if doc.get("child_id") and not await self._access.visible(
                recipient_principal(doc), [doc], now=now
            ):
                await self._store.update_email(doc["_id"], {"state": "withheld", "done_at": now})
                continue
            try:
                await self._mailer.send(message_of(doc, self._settings.smtp_sender))
            except Exception as err:
                await self._failed(doc, err, now)
                continue
            await self._store.update_email(
                doc["_id"], {"state": "sent", "done_at": now, "attempts": doc["attempts"] + 1}
            )
            sent += 1
        return sent

    async def _failed(self, doc: mongo.Document, err: Exception, now: datetime) -> None:
        attempts = doc["attempts"] + 1
        error = f"{type(err).__name__}: {err}"[:500]
        if attempts >= self._settings.email_attempts:
            log.error(
                "an email could not be delivered", extra={"fields": {"email": doc["_id"], "error": error}}
            )
            await self._store.update_email(
                doc["_id"], {"state": "failed", "attempts": attempts, "last_error": error, "done_at": now}
            )
            return
        backoff = self._settings.email_backoff_s * 2 ** (attempts - 1)
        await self._store.update_email(
            doc["_id"],
            {"attempts": attempts, "last_error": error, "due_at": now + timedelta(seconds=backoff)},
        )


def next_digest(now: datetime, hour: int) -> datetime:
    """When the next digest is due: today at `hour` (UTC) if that is still to come, else tomorrow."""
    due = now.replace(hour=hour, minute=0, second=0, microsecond=0)
    return due if due > now else due + timedelta(days=1)


class Digest:
    """The daily digest, once a day at `digest_hour` (UTC); its id is per person and day, so it goes once."""

    def __init__(
        self,
        store: NotificationStore,
        access: Access,
        settings: NotificationsSettings,
        *,
        clock: Clock = utc_now,
    ) -> None:
        self._store = store
        self._access = access
        self._settings = settings
        self._clock = clock

    async def run(self) -> None:
        """Queue the digest at the configured hour, every day. The wait looks at the clock again every
        `digest_check_s` rather than sleeping hours at once: a clock that jumped (a suspended host, a
        corrected time) moves the digest with it."""
        while True:
            due = next_digest(self._clock(), self._settings.digest_hour)
            await self._until(due)
            try:
                await self.queue(now=self._clock())
            except Exception:
                log.exception("the daily digest could not be queued")

    async def _until(self, due: datetime) -> None:
        while True:
            left = (due - self._clock()).total_seconds()
            if left <= 0:
                return
            await asyncio.sleep(min(left, self._settings.digest_check_s))

    async def queue(self, *, now: datetime) -> int:
        """Queue one digest email per person with unread notifications for the digest; returns how many."""
        by_person: dict[str, list[mongo.Document]] = {}
        for doc in await self._store.recent_unread(now - timedelta(days=1)):
            by_person.setdefault(doc["person_id"], []).append(doc)
        emails = []
        for person, docs in by_person.items():
            principal = recipient_principal(docs[0])
            prefs = await preferences_of(self._store, person, principal.kind)
            shown = [
                d
                for d in await self._access.visible(principal, docs, now=now)
                if prefs.allows(d["kind"], "digest")
            ]
            contact = docs[0]["recipient"].get("contact") or ""
            if shown and "@" in contact:
                emails.append(self._email(person, contact, shown, now))
        await self._store.queue_emails(emails)
        return len(emails)

    def _email(self, person: str, to: str, docs: list[mongo.Document], now: datetime) -> mongo.Document:
        counts = Counter(TITLES[d["kind"]] for d in docs)
        lines = "".join(f"- {title}: {n}\n" for title, n in sorted(counts.items()))
        web = self._settings.web_base_url.rstrip("/")
        return {
            "_id": f"digest:{person}:{now.date().isoformat()}",
            "to": to,
            "person_id": person,
            "child_id": None,
            "subject": "Safeguarding 2.0: your daily digest",
            "body": f"Unread since yesterday:\n{lines}\nSign in to read them: {web}/notifications\n",
            "state": "pending",
            "attempts": 0,
            "due_at": now,
        }
