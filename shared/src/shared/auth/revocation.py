"""Tokens that no longer count: sessions that were signed out and accounts that were disabled.

Accounts publishes `session.ended`, `person.disabled` and `person.enabled` on `accounts.events`, keyed by the
person (`shared.contracts.accounts`). Every process that verifies tokens keeps them in memory (`Revocations`)
and the verifier asks it on every request: two dictionary look-ups, O(1) whatever the number of people.

Each entry is forgotten once the last token it could affect has expired (`tokens_until`): an ended session's
tokens all expire within one access-token lifetime, and a disabled account gets no new tokens (accounts refuses
its sign-in and refresh), so the set holds at most an access-token lifetime's worth of sign-outs.

`RevocationFeed` fills it. Every replica needs every revocation, so it reads all partitions itself, with no
consumer group: at start (before the service answers) from `lookback` ago to the end, then it follows the topic
and applies a revocation within a fetch wait (about half a second) of accounts publishing it.
"""

from __future__ import annotations

import heapq
import logging
import time
from collections.abc import Callable
from datetime import timedelta

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from shared.contracts.accounts import PersonDisabled, PersonEvent, SessionEnded, decode_person_event
from shared.events import NotForThisConsumer
from shared.kafka.auth import KafkaCredentials

log = logging.getLogger(__name__)

SIGNED_OUT = "the token was revoked: its session was signed out; sign in again"
DISABLED = "the token was revoked: the account was disabled"


class Revocations:
    """The revoked sessions and disabled accounts whose tokens may still be unexpired."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._sessions: dict[str, float] = {}  # session id → when its last token expires
        self._disabled: dict[str, tuple[float, float]] = {}  # person id → (disabled at, last token expires)
        self._expiry: list[tuple[float, str, str]] = []  # (forget at, "session" | "person", id)

    def __len__(self) -> int:
        return len(self._sessions) + len(self._disabled)

    def revoked(self, *, subject: str, session_id: str | None, issued_at: float) -> str | None:
        """Why the token no longer counts, or None."""
        if session_id is not None and session_id in self._sessions:
            return SIGNED_OUT
        disabled = self._disabled.get(subject)
        if disabled is not None and issued_at <= disabled[0]:
            return DISABLED
        return None

    def apply(self, event: PersonEvent) -> None:
        """Remember a sign-out or a disabled account (an enabled account changes nothing: tokens issued before
        it was disabled stay refused, new ones are issued after)."""
        now = self._clock()
        self.prune(now)
        forget_at = event.tokens_until.timestamp()
        if forget_at <= now:
            return  # every token it could affect has expired already
        if isinstance(event, SessionEnded):
            self._sessions[event.session_id] = max(forget_at, self._sessions.get(event.session_id, 0.0))
            heapq.heappush(self._expiry, (forget_at, "session", event.session_id))
        elif isinstance(event, PersonDisabled):
            at, until = self._disabled.get(event.person_id, (0.0, 0.0))
            self._disabled[event.person_id] = (max(at, event.at.timestamp()), max(until, forget_at))
            heapq.heappush(self._expiry, (forget_at, "person", event.person_id))

    def prune(self, now: float | None = None) -> None:
        """Forget what can no longer affect an unexpired token."""
        now = self._clock() if now is None else now
        while self._expiry and self._expiry[0][0] <= now:
            _, kind, key = heapq.heappop(self._expiry)
            if kind == "session" and self._sessions.get(key, now + 1) <= now:
                del self._sessions[key]
            elif kind == "person" and self._disabled.get(key, (0.0, now + 1))[1] <= now:
                del self._disabled[key]


class RevocationFeed:
    """Reads person events from `topic` (all partitions, no group) into `revocations`."""

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        *,
        credentials: KafkaCredentials,
        revocations: Revocations,
        lookback: timedelta,
        timeout_s: float = 30.0,
    ) -> None:
        self._bootstrap = bootstrap
        self._auth = credentials.aiokafka()
        self._topic = topic
        self.revocations = revocations
        self._lookback = lookback
        self._timeout_s = timeout_s
        self._consumer: AIOKafkaConsumer | None = None
        self.applied = 0

    async def catch_up(self) -> None:
        """Read every revocation of the last `lookback`; the service answers no request before this is done."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap, enable_auto_commit=False, fetch_max_wait_ms=250, **self._auth
        )
        await consumer.start()
        self._consumer = consumer
        partitions = [TopicPartition(self._topic, p) for p in await self._partitions()]
        consumer.assign(partitions)
        since_ms = int((time.time() - self._lookback.total_seconds()) * 1000)
        starts = await consumer.offsets_for_times(dict.fromkeys(partitions, since_ms))
        ends = await consumer.end_offsets(partitions)
        for tp in partitions:
            found = starts.get(tp)
            consumer.seek(tp, found.offset if found is not None else ends[tp])
        deadline = time.monotonic() + self._timeout_s
        while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
            if time.monotonic() > deadline:
                raise TimeoutError(f"reading revocations from {self._topic} took over {self._timeout_s}s")
            await self._poll(consumer)
        log.info("revocations loaded", extra={"fields": {"entries": len(self.revocations)}})

    async def follow(self) -> None:
        """Apply revocations as accounts publishes them, until cancelled."""
        consumer = self._consumer
        if consumer is None:
            raise RuntimeError("catch_up must run (at start) before follow")
        while True:
            await self._poll(consumer)
            self.revocations.prune()

    async def stop(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None

    async def _poll(self, consumer: AIOKafkaConsumer) -> None:
        batches = await consumer.getmany(timeout_ms=500, max_records=5000)
        for records in batches.values():
            for record in records:
                if record.value is None:
                    continue
                try:
                    event = decode_person_event(record.topic, record.value).data
                except NotForThisConsumer:
                    continue
                except Exception as err:  # accounts' audit consumer dead-letters it; here it is only skipped
                    log.error("unreadable person event at %s/%s: %s", record.partition, record.offset, err)
                    continue
                self.revocations.apply(event)
                self.applied += 1

    async def _partitions(self) -> list[int]:
        admin = AIOKafkaAdminClient(bootstrap_servers=self._bootstrap, **self._auth)
        await admin.start()
        try:
            described = await admin.describe_topics([self._topic])
        finally:
            await admin.close()
        partitions = sorted(p["partition"] for t in described for p in t.get("partitions", ()))
        if not partitions:
            raise LookupError(f"topic {self._topic} has no partitions")
        return partitions
