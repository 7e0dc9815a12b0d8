"""The cross-agency pattern rule, alone: three agencies within 14 days complete it once, whatever the order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from notifications.pattern import Signal, completes

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
