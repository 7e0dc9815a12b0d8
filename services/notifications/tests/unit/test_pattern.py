"""The cross-agency pattern rule, alone: three agencies within 14 days complete it once, whatever the order."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from notifications.pattern import PatternWatch, Signal, completes

DAY = timedelta(days=1)
T0 = datetime(2026, 3, 1, tzinfo=UTC)
W = 14 * DAY


def s(key: str, agency: str, day: int) -> Signal:
    return Signal(key, "child", agency, T0 + day * DAY)


def test_the_third_agency_within_the_window_completes_the_pattern() -> None:
    assert completes(s("c", "police", 10), [s("a", "school", 0), s("b", "health", 5)], agencies=3, window=W)


def test_two_agencies_never_complete_it_however_many_signals() -> None:
    others = [s(f"x{i}", "school" if i % 2 else "health", i) for i in range(10)]
    assert not completes(s("n", "health", 11), others, agencies=3, window=W)


def test_a_third_agency_outside_the_window_does_not_complete_it() -> None:
    assert not completes(
        s("c", "police", 20), [s("a", "school", 0), s("b", "health", 5)], agencies=3, window=W
    )


def test_a_fourth_agency_after_the_pattern_fired_does_not_fire_it_again() -> None:
    others = [s("a", "school", 0), s("b", "health", 5), s("c", "police", 10)]
    assert not completes(s("d", "housing", 11), others, agencies=3, window=W)


def test_a_late_earlier_signal_completes_the_pattern_too() -> None:
    assert completes(s("b", "health", 5), [s("a", "school", 0), s("c", "police", 12)], agencies=3, window=W)


def test_a_redelivered_signal_gives_the_same_answer() -> None:
    new = s("c", "police", 10)
    others = [s("a", "school", 0), s("b", "health", 5), new]
    assert completes(new, others, agencies=3, window=W)


def test_the_threshold_is_configurable() -> None:
    assert completes(s("b", "health", 5), [s("a", "school", 0)], agencies=2, window=W)
    assert not completes(s("b", "health", 5), [s("a", "school", 0)], agencies=2, window=2 * DAY)


class SignalCounter:
    def __init__(self) -> None:
        self.kept: dict[tuple[str, str], Signal] = {}
        self.reads = 0

    async def add_signals(self, signals: Sequence[Signal]) -> None:
        for s in signals:
            self.kept.setdefault((s.child_id, s.key), s)

    async def signals_of(self, child_ids: Sequence[str]) -> list[Signal]:
        self.reads += 1
        return [s for s in self.kept.values() if s.child_id in child_ids]


async def test_a_signal_whose_agency_and_day_are_held_is_skipped_without_a_read() -> None:
    store = SignalCounter()
    watch = PatternWatch(store, agencies=3, window_days=14)
    first = Signal("school:1", "c1", "school", T0)

    assert await watch.observe([first]) == []
    assert await watch.observe([Signal("school:2", "c1", "school", T0)]) == []
    assert store.reads == 1  # the second signal's bucket was held: no read

    await watch.observe([first])  # a redelivery of the holder is looked at again
    assert store.reads == 2
    fired = await watch.observe(
        [Signal("health:1", "c1", "health", T0), Signal("police:1", "c1", "police", T0)]
    )
    assert [s.key for s in fired] == ["police:1"]
