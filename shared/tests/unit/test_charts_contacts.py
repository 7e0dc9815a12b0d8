"""The contact graph's stacked columns, its silent periods and its table alternative."""

from __future__ import annotations

from dataclasses import dataclass

from shared.charts.contacts import HEIGHT, LEFT, WIDTH, contact_chart, nice_ceiling


@dataclass(frozen=True)
class AgencySeries:
    agency: str
    points: list[tuple[str, int]]


@dataclass(frozen=True)
class ContactGraph:
    child_id: str
    granularity: str
    total: int
    periods: list[str]
    series: list[AgencySeries]


WEEKS = ["2026-03-02", "2026-03-09", "2026-03-16", "2026-03-23"]


def graph(series: list[AgencySeries], periods: list[str], granularity: str = "week") -> ContactGraph:
    total = sum(n for s in series for _, n in s.points)
    return ContactGraph(child_id="c", granularity=granularity, total=total, periods=periods, series=series)


def test_each_period_is_one_column_stacked_by_agency_and_a_silent_week_is_an_empty_slot() -> None:
    chart = contact_chart(
        graph(
            [
                AgencySeries(agency="school", points=[("2026-03-02", 2), ("2026-03-23", 1)]),
                AgencySeries(agency="socialcare", points=[("2026-03-02", 1)]),
            ],
            WEEKS,
        )
    )
    by_x: dict[float, list[float]] = {}
    for s in chart.segments:
        by_x.setdefault(s.x, []).append(s.height)
    assert len(by_x) == 2  # weeks 2 and 3 had no contact: no column there, a gap a reader sees
    first, last = sorted(by_x)
    assert last - first > 2 * (first - LEFT)  # the gap is the width of the silent weeks
    # Social care stacks under school in the first column: 1 + 2 on a y axis up to 5.
    assert [k.label for k in chart.keys] == ["Children's social care", "School"]
    assert sum(by_x[first]) > sum(by_x[last]) * 2.9


def test_the_table_lists_the_periods_with_contact_with_a_total_per_row_and_agency() -> None:
    chart = contact_chart(
        graph([AgencySeries(agency="health", points=[("2026-03-02", 5), ("2026-03-16", 1)])], WEEKS[:3])
    )
    assert [(r.period, r.counts, r.total) for r in chart.rows] == [
        ("Week of 2 Mar 2026", (5,), 5),
        ("Week of 16 Mar 2026", (1,), 1),
    ]
    assert chart.total == 6 and [k.total for k in chart.keys] == [6]
    assert "Busiest: Week of 2 Mar 2026 (5)" in chart.summary


def test_months_are_labelled_as_months() -> None:
    months = ["2026-01-01", "2026-02-01", "2026-03-01"]
    chart = contact_chart(graph([AgencySeries(agency="police", points=[("2026-01-01", 3)])], months, "month"))
    assert chart.per == "month" and chart.x_title == "Month"
    assert chart.rows[0].period == "January 2026"
    assert [t.label for t in chart.x_ticks] == ["Jan 2026", "Feb 2026", "Mar 2026"]


def test_the_columns_stay_inside_the_picture() -> None:
    many = [f"2026-{m:02d}-01" for m in range(1, 13)]
    chart = contact_chart(
        graph([AgencySeries(agency="school", points=[(p, 7) for p in many])], many, "month")
    )
    for s in chart.segments:
        assert s.x >= LEFT and s.x + s.width <= WIDTH and s.y >= 0 and s.y + s.height <= HEIGHT


def test_no_contact_draws_nothing() -> None:
    chart = contact_chart(graph([], []))
    assert chart.empty and chart.segments == () and chart.summary == "No contacts to show."


def test_the_y_axis_ends_on_a_round_number() -> None:
    assert [nice_ceiling(v) for v in (0, 1, 3, 7, 12, 48, 101)] == [1, 1, 5, 10, 20, 50, 200]
