"""The safety-scale chart: each participant's 0 to 10 answers to "how safe is the child now?" as a line over
time, one colour and one marker shape per participant (so the lines are told apart without colour too), the
family's lines first and dashed, with a key and a table for screen readers.

Lines, not columns: a scale is a judgement at a moment, and what the team reads is whether the judgements
move together, apart, up or down; a participant's one answer is a single marker.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from shared.charts.contacts import COLOURS, Tick
from shared.charts.labels import short_date

WIDTH, HEIGHT = 560, 280
LEFT, RIGHT, TOP, BOTTOM = 40, 24, 16, 48
TOP_SCORE = 10
MARKERS = ("circle", "square", "triangle", "diamond")
MAX_X_TICKS = 5
EMPTY = datetime(2000, 1, 1, tzinfo=UTC)  # any day: an empty chart has no time axis drawn


class Point(Protocol):
    @property
    def at(self) -> datetime: ...

    @property
    def score(self) -> int: ...

    @property
    def comment(self) -> str: ...


class Line(Protocol):
    """One participant's scales, oldest first: analytics' `ScaleLine`, or the web's copy of it."""

    @property
    def name(self) -> str: ...

    @property
    def family(self) -> bool: ...

    @property
    def points(self) -> Sequence[Point]: ...


@dataclass(frozen=True)
class Marker:
    x: float
    y: float
    title: str


@dataclass(frozen=True)
class Trace:
    label: str
    colour: str
    marker: str  # one of MARKERS
    dashed: bool  # the family's own lines
    path: str  # "x,y x,y ...": an SVG polyline's points
    markers: tuple[Marker, ...]
    latest: int


@dataclass(frozen=True)
class ScaleRow:
    day: str
    who: str
    score: int
    comment: str


@dataclass(frozen=True)
class ScaleChart:
    width: int
    height: int
    plot_left: float
    plot_right: float
    plot_top: float
    plot_bottom: float
    traces: tuple[Trace, ...]
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    rows: tuple[ScaleRow, ...]  # every scale, oldest first
    summary: str

    @property
    def empty(self) -> bool:
        return not self.traces


def scale_chart(lines: Sequence[Line]) -> ScaleChart:
    """Everything a template (or `svg.scale_svg`) needs to draw the lines."""
    times = [p.at for line in lines for p in line.points]
    first, last = (min(times), max(times)) if times else (EMPTY, EMPTY)
    if last - first < timedelta(days=1):  # one day (or one scale): centre it in a two-day span
        first, last = first - timedelta(days=1), last + timedelta(days=1)
    span = (last - first).total_seconds()
    left, right, plot_top, bottom = float(LEFT), float(WIDTH - RIGHT), float(TOP), float(HEIGHT - BOTTOM)

    def x_of(at: datetime) -> float:
        return round(left + (right - left) * (at - first).total_seconds() / span, 1)

    def y_of(score: float) -> float:
        return round(bottom - (bottom - plot_top) * score / TOP_SCORE, 1)

    traces = []
    for i, line in enumerate(lines):
        if not line.points:
            continue
        marks = tuple(
            Marker(x_of(p.at), y_of(p.score), f"{line.name}: {p.score} out of 10, {short_date(p.at)}")
            for p in line.points
        )
        traces.append(
            Trace(
                label=line.name,
                colour=COLOURS[i % len(COLOURS)],
                marker=MARKERS[i % len(MARKERS)],
                dashed=line.family,
                path=" ".join(f"{m.x},{m.y}" for m in marks),
                markers=marks,
                latest=line.points[-1].score,
            )
        )
    x_ticks = tuple(Tick(x_of(day), _tick(day)) for day in _midnights(first, last))
    rows = sorted(
        (
            (p.at, ScaleRow(short_date(p.at), line.name, p.score, p.comment))
            for line in lines
            for p in line.points
        ),
        key=lambda r: (r[0], r[1].who),
    )
    return ScaleChart(
        width=WIDTH,
        height=HEIGHT,
        plot_left=left,
        plot_right=right,
        plot_top=plot_top,
        plot_bottom=bottom,
        traces=tuple(traces),
        x_ticks=x_ticks if traces else (),
        y_ticks=tuple(Tick(y_of(v), str(v)) for v in range(0, TOP_SCORE + 1, 2)),
        rows=tuple(r for _, r in rows),
        summary=_summary(traces),
    )


def _midnights(first: datetime, last: datetime) -> list[datetime]:
    """Tick days: midnights inside the span, a whole number of days apart, at most MAX_X_TICKS."""
    day = first.replace(hour=0, minute=0, second=0, microsecond=0)
    if day < first:
        day += timedelta(days=1)
    step = timedelta(days=max(1, math.ceil((last - first).days / MAX_X_TICKS)))
    days: list[datetime] = []
    while day <= last and len(days) < MAX_X_TICKS:
        days.append(day)
        day += step
    return days


def _tick(at: datetime) -> str:
    return f"{at.day} {at:%b}"


def _summary(traces: Sequence[Trace]) -> str:
    """What a screen reader hears for the picture: each participant's latest scale."""
    if not traces:
        return "No safety scales have been given yet."
    latest = "; ".join(f"{t.label}: {t.latest}" for t in traces)
    return f"Safety scales from 0 (certain harm) to 10 (safe enough to close), latest for each: {latest}."
