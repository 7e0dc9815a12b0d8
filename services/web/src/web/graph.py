"""The line graph of agency contact over time, drawn as inline SVG on the server (no script, no chart library).

`line_chart` turns the analytics series (sparse: only periods with contacts) into everything the template
draws: one line per agency over every period from the first to the last (zeros filled in), axes with ticks,
and the same numbers as a table for screen readers and for anyone who prefers figures. Lines differ in colour
and in dash pattern, so they can be told apart without colour.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

from web.labels import agency_label, short_date
from web.models import AgencySeries

WIDTH = 560
HEIGHT = 280
LEFT, RIGHT, TOP, BOTTOM = 48, 32, 16, 48
# Okabe-Ito colours (distinguishable with the common colour-vision deficiencies), each with its own dashes.
STYLES: tuple[tuple[str, str], ...] = (
    ("#0072B2", ""),
    ("#D55E00", "8 4"),
    ("#009E73", "2 4"),
    ("#CC79A7", "10 4 2 4"),
    ("#7A5A00", "4 2"),
    ("#56B4E9", "12 3 3 3 3 3"),
    ("#000000", "1 3"),
)
AGENCY_ORDER = ("socialcare", "school", "health", "police", "housing", "voluntary")
MAX_X_TICKS = 6


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class Marker:
    x: float
    y: float
    count: int
    period: str


@dataclass(frozen=True)
class Line:
    agency: str
    label: str
    colour: str
    dashes: str
    points: str  # the SVG polyline's `points`
    markers: tuple[Marker, ...]
    total: int


@dataclass(frozen=True)
class TableRow:
    period: str
    counts: tuple[int, ...]


@dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    plot_left: float
    plot_right: float
    plot_top: float
    plot_bottom: float
    granularity: str
    lines: tuple[Line, ...]
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    rows: tuple[TableRow, ...]  # only the periods with at least one contact
    x_title: str
    total: int
    first: str
    last: str

    @property
    def empty(self) -> bool:
        return self.total == 0

    @property
    def summary(self) -> str:
        """One sentence a screen reader says for the picture."""
        if self.empty:
            return "No contacts to show."
        per = "week" if self.granularity == "week" else "day"
        busiest = max(self.lines, key=lambda line: line.total)
        return (
            f"{self.total} contacts from {len(self.lines)} "
            f"{'agency' if len(self.lines) == 1 else 'agencies'}, per {per}, from {self.first} to {self.last}. "
            f"Most contact: {busiest.label} ({busiest.total})."
        )


def periods_between(first: date, last: date, granularity: str) -> list[date]:
    """Every period start from `first` to `last` inclusive: days, or weeks (Mondays)."""
    step = timedelta(days=7 if granularity == "week" else 1)
    out = []
    current = first
    while current <= last:
        out.append(current)
        current += step
    return out


def nice_ceiling(value: int) -> int:
    """The y axis top: `value` rounded up to 1, 2 or 5 times a power of ten (at least 1)."""
    if value <= 1:
        return 1
    magnitude = int(10 ** math.floor(math.log10(value)))
    for factor in (1, 2, 5, 10):
        if value <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def y_tick_values(top: int) -> list[int]:
    step = max(1, top // 5) if top > 5 else 1
    return list(range(0, top + 1, step))


def period_label(day: date, granularity: str) -> str:
    return f"Week of {short_date(day)}" if granularity == "week" else short_date(day)


def _tick_label(day: date) -> str:
    return f"{day.day} {day:%b}"  # the years are in the axis title: short labels stay readable on a phone


def _style_of(agency: str, index: int) -> tuple[str, str]:
    if agency in AGENCY_ORDER:
        return STYLES[AGENCY_ORDER.index(agency)]
    return STYLES[(len(AGENCY_ORDER) + index) % len(STYLES)]


def line_chart(series: list[AgencySeries], granularity: str) -> LineChart:
    """Everything the template needs to draw the graph of `series` (from analytics' contact graph)."""
    counts: dict[str, dict[date, int]] = {}
    for s in series:
        per_period = counts.setdefault(s.agency, {})
        for period, n in s.points:
            day = date.fromisoformat(period[:10])
            per_period[day] = per_period.get(day, 0) + n
    all_days = sorted({d for per in counts.values() for d in per})
    plot_left, plot_right = float(LEFT), float(WIDTH - RIGHT)
    plot_top, plot_bottom = float(TOP), float(HEIGHT - BOTTOM)
    if not all_days:
        return LineChart(
            width=WIDTH,
            height=HEIGHT,
            plot_left=plot_left,
            plot_right=plot_right,
            plot_top=plot_top,
            plot_bottom=plot_bottom,
            granularity=granularity,
            lines=(),
            x_ticks=(),
            y_ticks=(),
            rows=(),
            x_title="",
            total=0,
            first="",
            last="",
        )
    periods = periods_between(all_days[0], all_days[-1], granularity)
    top = nice_ceiling(max(n for per in counts.values() for n in per.values()))

    def x_of(i: int) -> float:
        if len(periods) == 1:
            return round((plot_left + plot_right) / 2, 1)
        return round(plot_left + (plot_right - plot_left) * i / (len(periods) - 1), 1)

    def y_of(n: int) -> float:
        return round(plot_bottom - (plot_bottom - plot_top) * n / top, 1)

    agencies = sorted(counts, key=lambda a: (AGENCY_ORDER.index(a) if a in AGENCY_ORDER else 99, a))
    lines = []
    for index, agency in enumerate(agencies):
        per = counts[agency]
        colour, dashes = _style_of(agency, index)
        values = [per.get(p, 0) for p in periods]
        lines.append(
            Line(
                agency=agency,
                label=agency_label(agency),
                colour=colour,
                dashes=dashes,
                points=" ".join(f"{x_of(i)},{y_of(n)}" for i, n in enumerate(values)),
                markers=tuple(
                    Marker(x_of(i), y_of(n), n, period_label(periods[i], granularity))
                    for i, n in enumerate(values)
                    if n
                ),
                total=sum(values),
            )
        )
    tick_every = max(1, math.ceil(len(periods) / MAX_X_TICKS))
    x_ticks = [Tick(x_of(i), _tick_label(periods[i])) for i in range(0, len(periods), tick_every)]
    years = sorted({periods[0].year, periods[-1].year})
    x_title = (
        "Week starting" if granularity == "week" else "Day"
    ) + f" ({' to '.join(str(y) for y in years)})"
    rows = tuple(
        TableRow(period_label(p, granularity), tuple(counts[a].get(p, 0) for a in agencies))
        for p in periods
        if any(counts[a].get(p, 0) for a in agencies)
    )
    return LineChart(
        width=WIDTH,
        height=HEIGHT,
        plot_left=plot_left,
        plot_right=plot_right,
        plot_top=plot_top,
        plot_bottom=plot_bottom,
        granularity=granularity,
        lines=tuple(lines),
        x_ticks=tuple(x_ticks),
        y_ticks=tuple(Tick(y_of(v), str(v)) for v in y_tick_values(top)),
        rows=rows,
        x_title=x_title,
        total=sum(line.total for line in lines),
        first=period_label(periods[0], granularity),
        last=period_label(periods[-1], granularity),
    )
