"""The SVG line graph's geometry and its table alternative."""

from __future__ import annotations

from datetime import date

from web.graph import HEIGHT, LEFT, WIDTH, line_chart, nice_ceiling, periods_between, y_tick_values
from web.models import AgencySeries


def test_gaps_between_contacts_are_drawn_as_zero_weeks() -> None:
    chart = line_chart([AgencySeries(agency="school", points=[("2026-03-02", 2), ("2026-03-23", 1)])], "week")
    (school,) = chart.lines
    ys = [float(p.split(",")[1]) for p in school.points.split()]
    assert len(ys) == 4  # 2, 9, 16 and 23 March
    assert ys[1] == ys[2] == chart.plot_bottom  # the empty weeks sit on the axis
    assert [m.count for m in school.markers] == [2, 1]
    assert [r.period for r in chart.rows] == ["Week of 2 Mar 2026", "Week of 23 Mar 2026"]


def test_every_agency_gets_a_line_with_its_own_colour_and_dashes() -> None:
    chart = line_chart(
        [
            AgencySeries(agency="police", points=[("2026-03-02", 1)]),
            AgencySeries(agency="school", points=[("2026-03-02", 3), ("2026-03-09", 1)]),
            AgencySeries(agency="socialcare", points=[("2026-03-09", 2)]),
        ],
        "week",
    )
    assert [line.label for line in chart.lines] == ["Children's social care", "School", "Police"]
    assert len({line.colour for line in chart.lines}) == 3
    assert len({line.dashes for line in chart.lines}) == 3
    assert chart.total == 7
    assert chart.rows[0].counts == (0, 3, 1) and chart.rows[1].counts == (2, 1, 0)
    assert "7 contacts from 3 agencies" in chart.summary and "Most contact: School (4)" in chart.summary


def test_points_stay_inside_the_plot_and_the_highest_touches_the_top() -> None:
    chart = line_chart([AgencySeries(agency="health", points=[("2026-01-05", 5), ("2026-02-02", 1)])], "week")
    xs = [float(p.split(",")[0]) for p in chart.lines[0].points.split()]
    ys = [float(p.split(",")[1]) for p in chart.lines[0].points.split()]
    assert xs[0] == LEFT and xs[-1] == chart.plot_right <= WIDTH
    assert min(ys) == chart.plot_top and max(ys) <= chart.plot_bottom < HEIGHT
    assert [t.label for t in chart.y_ticks] == ["0", "1", "2", "3", "4", "5"]


def test_a_single_period_is_drawn_in_the_middle() -> None:
    chart = line_chart([AgencySeries(agency="school", points=[("2026-03-02", 1)])], "day")
    (marker,) = chart.lines[0].markers
    assert marker.x == (chart.plot_left + chart.plot_right) / 2
    assert chart.x_ticks[0].label == "2 Mar" and chart.x_title == "Day (2026)"


def test_no_contacts_is_an_empty_chart() -> None:
    chart = line_chart([], "week")
    assert chart.empty and chart.summary == "No contacts to show."


def test_axis_helpers() -> None:
    assert [nice_ceiling(n) for n in (0, 1, 3, 7, 12, 48, 101)] == [1, 1, 5, 10, 20, 50, 200]
    assert y_tick_values(20) == [0, 4, 8, 12, 16, 20]
    assert periods_between(date(2026, 1, 5), date(2026, 1, 19), "week") == [
        date(2026, 1, 5),
        date(2026, 1, 12),
        date(2026, 1, 19),
    ]
    across_new_year = line_chart(
        [AgencySeries(agency="school", points=[("2025-12-29", 1), ("2026-03-30", 1)])], "week"
    )
    assert across_new_year.x_ticks[0].label == "29 Dec" and len(across_new_year.x_ticks) <= 6
    assert across_new_year.x_title == "Week starting (2025 to 2026)"
