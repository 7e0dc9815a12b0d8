"""Email and the daily digest with an in-memory store and a mailer that fails on demand: a failed delivery
is retried with backoff and then recorded; an email for someone who has left is withheld; the digest says
how many of each kind, nothing about any case, once per person and day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from notifications_fakes import FakeNotificationStore

from notifications.delivery import Access, Hub
from notifications.mail import Digest, EmailSender, next_digest
from notifications.models import Alert, Kind, Recipient
from notifications.service import Inboxes
from notifications.settings import NotificationsSettings
from testsupport.events import account_opened, new_nhs_number
from testsupport.identities import Identities
from testsupport.memory import MemoryAccessSnapshots
from testsupport.offline import offline_settings

IDS = Identities()
LEAD = "lead-1"
NOW = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)


class Mailer:
    def __init__(self, failures: int = 0) -> None:
        self.sent: list[EmailMessage] = []
        self.failures = failures

    async def send(self, message: EmailMessage) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionRefusedError("SMTP server away")
        self.sent.append(message)


async def world(
    mailer: Mailer, **settings: object
) -> tuple[FakeNotificationStore, Inboxes, EmailSender, Digest, str]:
    store, snapshots = FakeNotificationStore(), MemoryAccessSnapshots()
    child = new_nhs_number()
    await snapshots.apply([e.data for e in account_opened(child, lead_id=LEAD)])
    config = NotificationsSettings(**offline_settings(IDS), email_attempts=3, email_backoff_s=10)
    access = Access(snapshots)
    inboxes = Inboxes(store, Hub(), web_base_url="https://sg.example")
    return store, inboxes, EmailSender(store, access, mailer, config), Digest(store, access, config), child


def alert(child: str, *, kind: Kind = "break_glass_used", person: str = LEAD, n: int = 0) -> Alert:
    return Alert(
        event_id=f"e{kind}{n}",
        kind=kind,
        child_id=child,
        child_initials="T.C.",
        at=NOW,
        recipients=(Recipient(person, contact=f"{person}@council.example"),),
        urgent=kind == "break_glass_used",
    )


async def test_a_failed_email_is_retried_with_backoff_then_recorded_as_failed() -> None:
    mailer = Mailer(failures=5)
    store, inboxes, sender, _, child = await world(mailer)
    await inboxes.deliver([alert(child)], now=NOW)

    assert await sender.send_due(NOW) == 0
    (email,) = store.emails.values()
    assert (
        email["state"] == "pending" and email["attempts"] == 1 and "SMTP server away" in email["last_error"]
    )
    assert await sender.send_due(NOW + timedelta(seconds=5)) == 0 and email["attempts"] == 1  # not due yet
    await sender.send_due(NOW + timedelta(seconds=10))
    await sender.send_due(NOW + timedelta(seconds=40))
    assert email["state"] == "failed" and email["attempts"] == 3
    assert mailer.sent == []


async def test_an_email_that_fails_once_is_sent_on_the_next_attempt() -> None:
    mailer = Mailer(failures=1)
    _, inboxes, sender, _, child = await world(mailer)
    await inboxes.deliver([alert(child)], now=NOW)
    await sender.send_due(NOW)
    await sender.send_due(NOW + timedelta(seconds=10))
    (message,) = mailer.sent
    assert message["To"] == f"{LEAD}@council.example" and "T.C." in message.get_content()
    assert child not in message.get_content()


async def test_an_email_for_someone_with_no_access_is_withheld() -> None:
    mailer = Mailer()
    store, inboxes, sender, _, child = await world(mailer)
    await inboxes.deliver([alert(child, person="stranger-1")], now=NOW)
    await sender.send_due(NOW)
    assert mailer.sent == [] and [e["state"] for e in store.emails.values()] == ["withheld"]


async def test_the_digest_counts_each_chosen_kind_and_goes_once_a_day() -> None:
    mailer = Mailer()
    _, inboxes, sender, digest, child = await world(mailer)
    alerts = [alert(child, kind="significant_contact", n=n) for n in range(3)] + [
        alert(child, kind="join_requested")
    ]
    await inboxes.deliver(alerts, now=NOW - timedelta(hours=2))

    assert await digest.queue(now=NOW) == 1
    await digest.queue(now=NOW)  # again the same day: the same digest, not a second one
    await sender.send_due(NOW)
    digests = [m for m in mailer.sent if "digest" in str(m["Subject"])]
    assert len(digests) == 1
    body = digests[0].get_content()
    assert "New significant event: 3" in body and "Request to join" not in body  # joins are not in the digest
    assert child not in body


def test_the_next_digest_is_today_at_its_hour_until_that_has_passed_then_tomorrow() -> None:
    morning = datetime(2026, 3, 2, 6, 59, 59, tzinfo=UTC)
    assert next_digest(morning, 7) == datetime(2026, 3, 2, 7, tzinfo=UTC)
    assert next_digest(morning.replace(hour=7, second=0), 7) == datetime(2026, 3, 3, 7, tzinfo=UTC)
    assert next_digest(morning.replace(hour=23), 0) == datetime(2026, 3, 3, 0, tzinfo=UTC)
