"""The contact graph drawn by hand (`shared.charts`) against a maintained charting library (pygal's StackedBar),
on one year of weekly contacts from six agencies: milliseconds a chart, size, and whether it needs a script.

pygal is not a dependency of the project; run it from a throwaway environment beside the checkout:

    .cache/tools/uv-venv/bin/uv venv /tmp/pygal-venv -p .venv/bin/python
    VIRTUAL_ENV=/tmp/pygal-venv .cache/tools/uv-venv/bin/uv pip install pygal
    PYTHONPATH=shared/src:. /tmp/pygal-venv/bin/python -m bench.charts_vs_pygal [--out DIR]

With `--out` it writes both SVGs there, to be looked at side by side.
"""

from __future__ import annotations

import argparse
import random
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from shared.charts.contacts import contact_chart
from shared.charts.svg import contact_svg


@dataclass(frozen=True)
class Series:
    agency: str
    points: list[tuple[str, int]]


@dataclass(frozen=True)
class Graph:
    child_id: str
    granularity: str
    total: int
    periods: list[str]
    series: list[Series]


random.seed(1)
weeks = [(date(2026, 1, 5) + timedelta(weeks=i)).isoformat() for i in range(52)]
agencies = ["police", "health", "school", "socialcare", "housing", "probation"]
series = [Series(a, [(w, random.randint(1, 4)) for w in weeks if random.random() < 0.4]) for a in agencies]
graph = Graph("c", "week", sum(n for s in series for _, n in s.points), weeks, series)


def hand() -> str:
    return contact_svg(contact_chart(graph), standalone=True)


def pg() -> str:
    import pygal  # type: ignore[import-not-found]

    chart = pygal.StackedBar(
        width=720, height=260, show_legend=True, x_label_rotation=0, show_minor_x_labels=False
    )
    chart.title = "Agency contact per week"
    chart.x_labels = weeks
    chart.x_labels_major = weeks[::4]
    for s in series:
        got = dict(s.points)
        chart.add(s.agency, [got.get(w, 0) for w in weeks])
    out: Any = chart.render(is_unicode=True)
    return str(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, help="write hand.svg and pygal.svg here")
    parser.add_argument("--renders", type=int, default=200)
    args = parser.parse_args()
    for name, draw in (("hand-drawn (shared.charts)", hand), ("pygal StackedBar", pg)):
        svg = draw()
        started = time.perf_counter()
        for _ in range(args.renders):
            draw()
        ms = (time.perf_counter() - started) / args.renders * 1000
        print(f"{name}: {ms:.2f} ms a chart, {len(svg) / 1024:.1f} KB, needs a script: {'<script' in svg}")
        if args.out:
            args.out.mkdir(parents=True, exist_ok=True)
            (args.out / f"{'hand' if draw is hand else 'pygal'}.svg").write_text(svg)


if __name__ == "__main__":
    main()
