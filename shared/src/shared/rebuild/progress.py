"""Progress of a long job: a bar with the rate and the time left on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
import time
from typing import TextIO

WIDTH = 30
LINE_EVERY_S = 5.0  # plain lines (a log, a CI job): one every few seconds is enough to see it move


def _clock(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


class Progress:
    """`advance(n)` as events are done; the bar redraws at most ten times a second."""

    def __init__(self, total: int, *, label: str, unit: str = "events", out: TextIO | None = None) -> None:
        self.total = max(total, 0)
        self.done = 0
        self._label = label
        self._unit = unit
        self._out = out or sys.stderr
        self._tty = self._out.isatty()
        self._started = time.perf_counter()
        self._drawn = 0.0

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self._started

    @property
    def rate(self) -> float:
        return self.done / self.elapsed if self.elapsed > 0 else 0.0

    def advance(self, n: int) -> None:
        self.done += n
        now = time.perf_counter()
        if now - self._drawn >= (0.1 if self._tty else LINE_EVERY_S):
            self._drawn = now
            self._draw()

    def line(self) -> str:
        share = self.done / self.total if self.total else 1.0
        rate = self.rate
        eta = (self.total - self.done) / rate if rate > 0 else 0.0
        text = (
            f"{self._label}: {self.done:,}/{self.total:,} {self._unit} ({100 * share:3.0f}%) "
            f"{rate:,.0f} {self._unit}/s, elapsed {_clock(self.elapsed)}, ETA {_clock(eta)}"
        )
        if not self._tty:
            return text
        filled = int(WIDTH * min(share, 1.0))
        return f"[{'#' * filled}{'-' * (WIDTH - filled)}] {text}"

    def _draw(self) -> None:
        if self._tty:
            self._out.write("\r\x1b[2K" + self.line())
        else:
            self._out.write(self.line() + "\n")
        self._out.flush()

    def close(self) -> None:
        self._draw()
        if self._tty:
            self._out.write("\n")
        self._out.flush()
