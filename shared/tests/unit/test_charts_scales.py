"""The safety-scale chart: one line per participant on a 0 to 10 axis, the family's dashed, a table of every
scale, and SVG that draws people's words as text."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

from shared.charts.cloud import cloud_picture, size_step
from shared.charts.scales import HEIGHT, LEFT, TOP, WIDTH, scale_chart
from shared.charts.svg import cloud_svg, scale_svg

DAY = timedelta(days=1)
START = datetime(2026, 3, 2, 9, tzinfo=UTC)


@dataclass(frozen=True)
class Point:
    at: datetime
    score: int
    comment: str = ""


@dataclass(frozen=True)
class Line:
    name: str
    family: bool = False
    points: list[Point] = field(default_factory=list)


def test_each_participant_is_one_line_and_the_scores_sit_on_the_0_to_10_axis() -> None:
    chart = scale_chart(
        [
            Line("Mum", family=True, points=[Point(START, 10), Point(START + 4 * DAY, 0)]),
            Line("Lead", points=[Point(START + 2 * DAY, 5)]),
        ]
    )
    mum, lead = chart.traces
    assert mum.dashed and not lead.dashed and mum.marker != lead.marker and mum.colour != lead.colour
    assert [(m.x, m.y) for m in mum.markers] == [(LEFT, TOP), (WIDTH - 24, HEIGHT - 48)]
    assert lead.markers[0].x == (LEFT + WIDTH - 24) / 2 and lead.latest == 5
    assert [(r.who, r.score) for r in chart.rows] == [("Mum", 10), ("Lead", 5), ("Mum", 0)]
    assert chart.summary.endswith("latest for each: Mum: 0; Lead: 5.")


def test_no_scale_draws_an_empty_chart() -> None:
    chart = scale_chart([])
    assert chart.empty and chart.rows == () and "No safety scales" in chart.summary
    ElementTree.fromstring(scale_svg(chart, standalone=True))


def test_names_and_words_are_drawn_as_text_never_as_markup() -> None:
    odd = "<b onload='x'>Tom</b> & \"Jerry\""
    svg = scale_svg(scale_chart([Line(odd, points=[Point(START, 3, comment=odd)])]), standalone=True)
    root = ElementTree.fromstring(svg)
    assert not [e for e in root.iter() if e.tag.endswith("}b") or e.tag == "b"]
    assert odd in "".join(root.itertext())
    cloud = ElementTree.fromstring(cloud_svg(cloud_picture([(odd, 2), ("home visit", 1)], documents=2)))
    assert odd in "".join(cloud.itertext())


def test_cloud_words_are_sized_on_a_log_scale_and_wrap_inside_the_picture() -> None:
    assert [size_step(n, 100) for n in (1, 10, 100)] == [1, 3, 5]
    picture = cloud_picture([(f"word number {i}", 20 - i) for i in range(20)], documents=30)
    assert len({w.y for w in picture.words}) > 1  # more than one row
    assert all(w.x >= 0 and w.x < picture.width and w.y <= picture.height for w in picture.words)
