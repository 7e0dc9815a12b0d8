"""The child's page's pictures: the contact graph and the safety-scale chart, drawn by `shared.charts` (the
same drawing analytics serves as SVG), with what the page shows beside them (key, table) or in their place
(what went wrong, in that section only)."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from shared.charts.contacts import Chart, contact_chart
from shared.charts.scales import ScaleChart, scale_chart
from shared.charts.svg import contact_svg, key_swatch, scale_svg
from web.clients import BackendError
from web.models import ContactGraph, SafetyScales


@dataclass(frozen=True)
class GraphSection:
    chart: Chart | None
    svg: Markup
    error: BackendError | None


@dataclass(frozen=True)
class ScalesSection:
    chart: ScaleChart | None
    svg: Markup
    swatches: tuple[Markup, ...]  # the key's, one per trace
    error: BackendError | None


def graph_view(graph: ContactGraph | BackendError) -> GraphSection:
    if isinstance(graph, BackendError):
        return GraphSection(None, Markup(""), graph)
    chart = contact_chart(graph)
    # Markup: `contact_svg` escapes every string it draws (shared.charts.svg.text).
    return GraphSection(chart, Markup(contact_svg(chart, ids="chart")), None)


def scales_view(scales: SafetyScales | BackendError) -> ScalesSection:
    if isinstance(scales, BackendError):
        return ScalesSection(None, Markup(""), (), scales)
    chart = scale_chart(scales.lines)
    swatches = tuple(Markup(key_swatch(t)) for t in chart.traces)
    return ScalesSection(chart, Markup(scale_svg(chart, ids="scale-chart")), swatches, None)
