"""How often sign-in may be tried, through the `limits` library (moving windows).

- every attempt counts against the user name and against the client (its address): past either limit the
  answer is 429 with Retry-After, whether or not the name exists;
- failed attempts count against the user name alone: past `failures` the name is locked for the window
  (`accounts.people.signin` also stores the lock on the person, so it outlives a restart);
- refreshes count against the client;
- "user name taken" answers count against the person who asked (`accounts.people.service`).

The counters live in `limits`' in-memory storage: right for one accounts replica. Several replicas need one
storage they all share (`limits` speaks Redis, Memcached and MongoDB; see the README's deploy section),
given as `ACCOUNTS_SIGNIN_LIMITS_STORAGE`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from accounts.errors import TooManyRequests
from accounts.settings import AccountsSettings


@dataclass(frozen=True)
class Limits:
    per_username: RateLimitItem
    per_client: RateLimitItem
    failures: RateLimitItem
    refreshes: RateLimitItem
    conflicts: RateLimitItem


class Throttle:
    def __init__(self, settings: AccountsSettings, storage: Storage | None = None) -> None:
        found = storage or storage_from_string(settings.signin_limits_storage)
        if not isinstance(found, Storage):
            raise ValueError(
                "ACCOUNTS_SIGNIN_LIMITS_STORAGE must name an async storage (async+memory://, ...)"
            )
        self.storage = found
        self._limiter = MovingWindowRateLimiter(self.storage)
        self.limits = Limits(
            per_username=parse(settings.signin_limit_per_username),
            per_client=parse(settings.signin_limit_per_client),
            failures=parse(settings.signin_lock_after),
            refreshes=parse(settings.refresh_limit_per_client),
            conflicts=parse(settings.username_conflicts_limit),
        )

    @property
    def lock_for_s(self) -> int:
        """How long a lock lasts: the failure window."""
        return int(self.limits.failures.get_expiry())

    async def attempt(self, *, username: str, client: str) -> None:
        """Count one sign-in attempt; `TooManyRequests` past either limit."""
        for item, key in ((self.limits.per_client, client), (self.limits.per_username, username.lower())):
            if not await self._limiter.hit(item, "signin", key):
                raise TooManyRequests(
                    "too many sign-in attempts; wait a minute and try again",
                    retry_after_s=await self._retry_after(item, "signin", key),
                )

    async def locked(self, username: str) -> bool:
        """Whether the user name has used up its failures (known or not: the answer is the same)."""
        return not await self._limiter.test(self.limits.failures, "failures", username.lower())

    async def failed(self, username: str) -> bool:
        """Count one failure; True if this one locks the name."""
        await self._limiter.hit(self.limits.failures, "failures", username.lower())
        return await self.locked(username)

    async def forget_failures(self, username: str) -> None:
        await self._limiter.clear(self.limits.failures, "failures", username.lower())

    async def refresh(self, *, client: str) -> None:
        if not await self._limiter.hit(self.limits.refreshes, "refresh", client):
            raise TooManyRequests(
                "too many refreshes from this client; wait a minute",
                retry_after_s=await self._retry_after(self.limits.refreshes, "refresh", client),
            )

    async def conflict(self, *, person_id: str) -> None:
        """Count one "user name taken" answer to this person; `TooManyRequests` past the limit."""
        if not await self._limiter.hit(self.limits.conflicts, "conflict", person_id):
            raise TooManyRequests(
                "too many user names tried that were taken; try again later",
                retry_after_s=await self._retry_after(self.limits.conflicts, "conflict", person_id),
            )

    async def _retry_after(self, item: RateLimitItem, *keys: str) -> int:
        stats = await self._limiter.get_window_stats(item, *keys)
        return max(1, math.ceil(stats.reset_time - time.time()))
