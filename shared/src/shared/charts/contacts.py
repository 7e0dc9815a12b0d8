"""The graph of agency contact over time: stacked columns, one per week or month, drawn as inline SVG on the
server.

Why columns and not lines: contact is a count per period, and what a practitioner looks for is when it rose
and when it stopped. One column per period, every period from the first contact to the last, shows a silent
month as an empty slot; stacking by agency shows who was in touch without lines crossing and dropping to zero
between visits (what made the old line graph spiky and hard to read). The numbers are also a table, for
screen readers and for anyone who prefers figures.

Why hand-drawn SVG and not a charting library: the page is rendered on the server with no script (the CSP
allows only our own), so a browser library would add a script for one picture; the server-side Python ones
(matplotlib, pygal) are far heavier than the ~100 lines here, which draw a year of six agencies' weeks in
about 1 ms against pygal's 47 ms (`bench/charts_vs_pygal.py`), with a script-free SVG a fifth the size, and
give exact control of colours (Okabe-Ito, distinguishable with the common colour-vision deficiencies),
labels and the accessible description.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from shared.charts.labels import agency_label, short_date

WIDTH, HEIGHT = 560, 280
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 16, 48
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#7A5A00", "#56B4E9", "#000000")
AGENCY_ORDER = ("socialcare", "school", "health", "police", "housing", "voluntary")
MAX_X_TICKS = 6


class Series(Protocol):
    """One agency's contacts: analytics' `AgencySeries`, or the web's copy of it."""

    @property
    def agency(self) -> str: ...

    @property
    def points(self) -> Sequence[tuple[str, int]]: ...


class ContactGraph(Protocol):
    """What the chart needs of analytics' contact graph (its JSON, as either side models it)."""

    @property
    def granularity(self) -> str: ...

    @property
    def total(self) -> int: ...

    @property
    def periods(self) -> Sequence[str]: ...

    @property
    def series(self) -> Sequence[Series]: ...


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class Segment:
    x: float
    y: float
    width: float
    height: float
    colour: str
    title: str


@dataclass(frozen=True)
class Key:
    label: str
    colour: str
    total: int


@dataclass(frozen=True)
class TableRow:
    period: str
    counts: tuple[int, ...]
    total: int


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    plot_left: float
    plot_right: float
    plot_top: float
    plot_bottom: float
    granularity: str
    segments: tuple[Segment, ...]
    keys: tuple[Key, ...]
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    rows: tuple[TableRow, ...]  # only the periods with at least one contact
    x_title: str
    total: int
    summary: str

    @property
    def empty(self) -> bool:
        return self.total == 0

    @property
    def per(self) -> str:
        return {"week": "week", "month": "month"}.get(self.granularity, "day")


def nice_ceiling(value: int) -> int:
    """The y axis top: `value` rounded up to 1, 2 or 5 times a power of ten (at least 1)."""
    if value <= 1:
        return 1
    magnitude = int(10 ** math.floor(math.log10(value)))
    for factor in (1, 2, 5, 10):
        if value <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def period_label(day: date, granularity: str) -> str:
    if granularity == "month":
        return f"{day:%B %Y}"
    return f"Week of {short_date(day)}" if granularity == "week" else short_date(day)


def _tick_label(day: date, granularity: str) -> str:
    return f"{day:%b %Y}" if granularity == "month" else f"{day.day} {day:%b}"


def _order(agency: str) -> tuple[int, str]:
    return (AGENCY_ORDER.index(agency) if agency in AGENCY_ORDER else len(AGENCY_ORDER), agency)


def contact_chart(graph: ContactGraph) -> Chart:
    """Everything the template needs to draw `graph` (analytics' contact graph, with its dense periods)."""
    granularity = graph.granularity
    agencies = sorted((s.agency for s in graph.series), key=_order)
    counts = {s.agency: dict(s.points) for s in graph.series}
    periods = graph.periods or sorted({p for s in graph.series for p, _ in s.points})
    colours = {a: COLOURS[i % len(COLOURS)] for i, a in enumerate(agencies)}
    totals = [sum(counts[a].get(p, 0) for a in agencies) for p in periods]
    top = nice_ceiling(max(totals, default=0))
    left, right, plot_top, bottom = float(LEFT), float(WIDTH - RIGHT), float(TOP), float(HEIGHT - BOTTOM)
    slot = (right - left) / max(1, len(periods))
    bar = max(1.0, slot * 0.8)

    def y_of(n: float) -> float:
        return round(bottom - (bottom - plot_top) * n / top, 1)

    segments = []
    for i, period in enumerate(periods):
        label, stacked = period_label(date.fromisoformat(period), granularity), 0
        for agency in agencies:
            n = counts[agency].get(period, 0)
            if n:
                y = y_of(stacked + n)
                title = f"{agency_label(agency)}: {n} contact{'' if n == 1 else 's'}, {label}"
                x = round(left + slot * i + (slot - bar) / 2, 1)
                segments.append(
                    Segment(x, y, round(bar, 1), round(y_of(stacked) - y, 1), colours[agency], title)
                )
                stacked += n
    every = max(1, math.ceil(len(periods) / MAX_X_TICKS))
    x_ticks = [
        Tick(round(left + slot * (i + 0.5), 1), _tick_label(date.fromisoformat(periods[i]), granularity))
        for i in range(0, len(periods), every)
    ]
    step = max(1, top // 5)
    keys = tuple(Key(agency_label(a), colours[a], sum(counts[a].values())) for a in agencies)
    rows = tuple(
        TableRow(
            period_label(date.fromisoformat(p), granularity), tuple(counts[a].get(p, 0) for a in agencies), t
        )
        for p, t in zip(periods, totals, strict=True)
        if t
    )
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        plot_left=left,
        plot_right=right,
        plot_top=plot_top,
        plot_bottom=bottom,
        granularity=granularity,
        segments=tuple(segments),
        keys=keys,
        x_ticks=tuple(x_ticks),
        y_ticks=tuple(Tick(y_of(v), str(v)) for v in range(0, top + 1, step)),
        rows=rows,
        x_title={"week": "Week starting", "month": "Month"}.get(granularity, "Day"),
        total=graph.total,
        summary=_summary(graph, keys, periods, totals),
    )


def _summary(graph: ContactGraph, keys: tuple[Key, ...], periods: Sequence[str], totals: list[int]) -> str:
    """What a screen reader says for the picture: how much, from whom, when it was busiest, and how long it
    has been quiet since the last contact."""
    if not graph.total:
        return "No contacts to show."
    per = {"week": "week", "month": "month"}.get(graph.granularity, "day")
    first, last = (period_label(date.fromisoformat(p), graph.granularity) for p in (periods[0], periods[-1]))
    busiest = max(range(len(periods)), key=lambda i: (totals[i], i))
    most = max(keys, key=lambda k: k.total)
    return (
        f"{graph.total} contacts from {len(keys)} {'agency' if len(keys) == 1 else 'agencies'}, per {per}, "
        f"from {first} to {last}. Busiest: {period_label(date.fromisoformat(periods[busiest]), graph.granularity)} "
        f"({totals[busiest]}). Most contact: {most.label} ({most.total})."
    )
