"""The cross-agency pattern (issue 13, rule 7): worries or significant contacts about one child from N
different agencies within D days. Nobody watching one agency's data sees it; serious case reviews keep
finding it missed.

`completes` is the rule, pure: does this signal make some window of D days that contains it reach N agencies,
when without it no such window did? So the pattern fires once, on the signal that completes it, whatever
order the signals arrive in; a redelivered signal is left out of "without it" by its key, so it fires the same
way again and the notification's id (from the signal's key) makes the second one a duplicate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from shared import mongo


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
    async def add_signal(self, doc: mongo.Document) -> None: ...

    async def signals(self, child_id: str, start: datetime, end: datetime) -> list[mongo.Document]: ...


class PatternWatch:
    """Keeps each signal, then asks `completes` whether it completed the pattern for its child."""

    def __init__(self, store: SignalStore, *, agencies: int, window_days: int) -> None:
        self._store = store
        self.agencies = agencies
        self.window = timedelta(days=window_days)

    async def observe(self, signal: Signal) -> bool:
        """Record `signal`; True if it completed the pattern (the same answer when redelivered)."""
        await self._store.add_signal(
            {"_id": signal.key, "child_id": signal.child_id, "agency": signal.agency, "at": signal.at}
        )
        start, end = neighbourhood(signal, self.window)
        near = [
            Signal(d["_id"], d["child_id"], d["agency"], d["at"])
            for d in await self._store.signals(signal.child_id, start, end)
        ]
        return completes(signal, near, agencies=self.agencies, window=self.window)
