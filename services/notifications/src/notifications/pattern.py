"""The cross-agency pattern (issue 13, rule 7): worries in the forum (a practitioner's, for their agency) or
significant contacts about one child from N different agencies within D days. Nobody watching one agency's
data sees it; serious case reviews keep finding it missed.

`completes` is the rule, pure: does this signal make some window of D days that contains it reach N agencies,
when without it no such window did? So the pattern fires once, on the signal that completes it, whatever
order the signals arrive in; a redelivered signal is left out of "without it" by its key, so it fires the same
way again and the notification's id (from the signal's key) makes the second one a duplicate.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol


@dataclass(frozen=True)
class Signal:
    """One worry or significant contact: whose, from which agency, when it happened."""

    key: str
    child_id: str
    agency: str
    at: datetime


def _agencies_in(signals: Sequence[Signal], start: datetime, end: datetime) -> set[str]:
    return {s.agency for s in signals if start <= s.at <= end}


def completes(new: Signal, others: Sequence[Signal], *, agencies: int, window: timedelta) -> bool:
    """True if `new` completes the pattern: some window of length `window` that contains `new` holds
    `agencies` different agencies with it, and no window containing it did without it. `others` are the child's other signals
    near `new` (those with `new`'s key are ignored)."""
    rest = [s for s in others if s.key != new.key]
    # Every window holding `new` that matters starts at a signal's time between new.at - window and new.at.
    starts = {new.at, *(s.at for s in rest if new.at - window <= s.at <= new.at)}
    windows = [_agencies_in(rest, start, start + window) for start in starts]
    if any(len(before) >= agencies for before in windows):
        return False  # the pattern around this time was complete already: it has fired
    return any(len(before | {new.agency}) >= agencies for before in windows)


def neighbourhood(new: Signal, window: timedelta) -> tuple[datetime, datetime]:
    """The span of time whose signals `completes` needs to see."""
    return new.at - window, new.at + window


class SignalStore(Protocol):
    async def add_signals(self, signals: Sequence[Signal]) -> None:
        """Keep these signals with their children's (a redelivered one changes nothing)."""
        ...

    async def signals_of(self, child_ids: Sequence[str]) -> list[Signal]:
        """Every kept signal of these children."""
        ...


class PatternWatch:
    """Keeps a batch's signals, then asks `completes` which of them completed the pattern for their child."""

    def __init__(self, store: SignalStore, *, agencies: int, window_days: int) -> None:
        self._store = store
        self.agencies = agencies
        self.window = timedelta(days=window_days)
        # Contacts and forum worries arrive on two consumers of this process: each reads the child's signals,
        # then adds its own, so two interleaved could each complete the pattern without the other's signal
        # (or both fire). One at a time, they see each other's. (Replicas split the topics' partitions by
        # child, and each topic on its own; the lock is what this process can promise.)
        self._lock = asyncio.Lock()

    async def observe(self, signals: Sequence[Signal]) -> list[Signal]:
        """Record `signals`; those that completed the pattern (the same answer when redelivered).

        A child keeps one signal per agency and day, the first that arrived: another from the same agency
        on the same day adds no agency to any window, so it is neither kept nor can it complete anything.
        That bounds what is kept per child by agencies times days, however busy an agency is."""
        if not signals:
            return []
        async with self._lock:
            return await self._observe(signals)

    async def _observe(self, signals: Sequence[Signal]) -> list[Signal]:
        kept: dict[str, dict[tuple[str, str], Signal]] = {}
        for old in await self._store.signals_of(sorted({s.child_id for s in signals})):
            kept.setdefault(old.child_id, {})[bucket(old)] = old
        fired, new = [], []
        for signal in signals:
            mine = kept.setdefault(signal.child_id, {})
            holder = mine.get(bucket(signal))
            if holder is not None and holder.key != signal.key:
                continue
            if holder is None:
                mine[bucket(signal)] = signal
                new.append(signal)
            start, end = neighbourhood(signal, self.window)
            near = [s for s in mine.values() if start <= s.at <= end]
            if completes(signal, near, agencies=self.agencies, window=self.window):
                fired.append(signal)
        await self._store.add_signals(new)  # before the alerts are written: a crash between redoes both
        return fired


def bucket(signal: Signal) -> tuple[str, str]:
    return signal.agency, signal.at.date().isoformat()
