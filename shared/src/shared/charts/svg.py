"""The charts as SVG text: embedded in the web's page (`standalone=False`: styled by the page, labelled by
the ids given) or served on their own by analytics (`standalone=True`: the namespace, a white background,
fonts and the key inside the picture).

Every string drawn from data goes through `text`: names, agencies and keywords are people's input, and an
SVG is XML, where an unescaped `<` or `&` breaks the picture or, worse, injects markup.
"""

from __future__ import annotations

from html import escape

from shared.charts.cloud import CloudPicture
from shared.charts.contacts import Chart
from shared.charts.scales import ScaleChart, Trace

FONT = 'font-family="Arial, Helvetica, sans-serif"'
KEY_ROW = 22  # height of one key row in a standalone picture
INK, MUTED, GRID = "#0b0c0c", "#505a5f", "#d8dde0"


def text(value: object) -> str:
    """`value` as XML text or an attribute value."""
    return escape(str(value), quote=True)


def _open(width: int, height: int, title: str, desc: str, *, ids: str, standalone: bool) -> list[str]:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        if standalone
        else '<svg class="chart-svg" focusable="false" '
    )
    out = [
        f'{head}viewBox="0 0 {width} {height}" role="img" aria-labelledby="{ids}-title {ids}-desc">',
        f'<title id="{ids}-title">{text(title)}</title>',
        f'<desc id="{ids}-desc">{text(desc)}</desc>',
    ]
    if standalone:
        out.append(f'<rect width="{width}" height="{height}" fill="#ffffff"/>')
    return out


def _label(x: float, y: float, value: str, *, anchor: str = "middle", cls: str = "axis-label") -> str:
    size, fill = ("13", INK) if cls == "axis-label" else ("12", MUTED)
    return (
        f'<text x="{x}" y="{y}" text-anchor="{anchor}" class="{cls}" font-size="{size}" fill="{fill}" {FONT}>'
        f"{text(value)}</text>"
    )


def _key(items: list[tuple[str, str]], top: float, width: int, *, swatch: int = 14) -> list[str]:
    """A standalone picture's key: (swatch markup, label) in rows, two to a row; the label starts after the
    swatch (`swatch` wide)."""
    out, column = [], (width - 32) / 2
    for i, (markup, label) in enumerate(items):
        x, y = 16 + column * (i % 2), top + KEY_ROW * (i // 2)
        out.append(f'<g transform="translate({x:.1f},{y:.1f})">{markup}</g>')
        out.append(_label(x + swatch + 6, y + 11, label, anchor="start"))
    return out


def contact_svg(chart: Chart, *, standalone: bool = False, ids: str = "chart") -> str:
    """The stacked columns of agency contact."""
    keys = [
        (f'<rect width="14" height="14" fill="{k.colour}"/>', f"{k.label} ({k.total})") for k in chart.keys
    ]
    key_height = KEY_ROW * ((len(keys) + 1) // 2) + 8 if standalone else 0
    height = chart.height + key_height
    title = f"Contacts per {chart.per}, stacked by agency"
    desc = chart.summary + ("" if standalone else " The same numbers are in the table below.")
    out = _open(chart.width, height, title, desc, ids=ids, standalone=standalone)
    out.append('<g class="grid">')
    for tick in chart.y_ticks:
        out.append(
            f'<line x1="{chart.plot_left}" x2="{chart.plot_right}" y1="{tick.position}" y2="{tick.position}" '
            f'stroke="{GRID}" stroke-width="1"/>'
        )
        out.append(_label(chart.plot_left - 8, tick.position + 4, tick.label, anchor="end"))
    out.append("</g>")
    for s in chart.segments:
        out.append(
            f'<rect x="{s.x}" y="{s.y}" width="{s.width}" height="{s.height}" fill="{s.colour}" '
            f'stroke="#ffffff" stroke-width="0.75"><title>{text(s.title)}</title></rect>'
        )
    out.extend(_axes(chart.plot_left, chart.plot_right, chart.plot_top, chart.plot_bottom))
    for tick in chart.x_ticks:
        out.append(_x_tick(tick.position, chart.plot_bottom, tick.label))
    caption = f"{chart.x_title} (an empty slot: no contact that {chart.per})"
    out.append(_label(chart.plot_left, chart.height - 4, caption, anchor="start", cls="axis-title"))
    if standalone:
        out.extend(_key(keys, chart.height + 4, chart.width))
    out.append("</svg>")
    return "\n".join(out)


def _axes(left: float, right: float, top: float, bottom: float) -> list[str]:
    return [
        f'<line x1="{left}" x2="{left}" y1="{top}" y2="{bottom}" stroke="{INK}" stroke-width="1.5"/>',
        f'<line x1="{left}" x2="{right}" y1="{bottom}" y2="{bottom}" stroke="{INK}" stroke-width="1.5"/>',
    ]


def _x_tick(x: float, bottom: float, label: str) -> str:
    tick = f'<line x1="{x}" x2="{x}" y1="{bottom}" y2="{bottom + 6}" stroke="{INK}" stroke-width="1.5"/>'
    return tick + _label(x, bottom + 24, label)


def marker(shape: str, x: float, y: float, colour: str, *, r: float = 5, title: str | None = None) -> str:
    """A participant's marker: the shape tells the lines apart where the colours cannot."""
    if shape == "square":
        tag, shape_at = "rect", f'x="{x - r}" y="{y - r}" width="{2 * r}" height="{2 * r}"'
    elif shape in ("triangle", "diamond"):
        tip = r + 1
        corners = (
            [(x, y - tip), (x + tip, y + r), (x - tip, y + r)]
            if shape == "triangle"
            else [(x, y - tip), (x + tip, y), (x, y + tip), (x - tip, y)]
        )
        tag, shape_at = "polygon", 'points="' + " ".join(f"{a:.1f},{b:.1f}" for a, b in corners) + '"'
    else:
        tag, shape_at = "circle", f'cx="{x}" cy="{y}" r="{r}"'
    if title is None:
        return f'<{tag} {shape_at} fill="{colour}"/>'
    return f'<{tag} {shape_at} fill="{colour}" stroke="#ffffff"><title>{text(title)}</title></{tag}>'


def key_swatch(trace: Trace) -> str:
    """A trace's key entry: a stroke of its line and its marker, 28 by 14."""
    dash = ' stroke-dasharray="5 3"' if trace.dashed else ""
    line = f'<line x1="0" x2="28" y1="7" y2="7" stroke="{trace.colour}" stroke-width="2.5"{dash}/>'
    return line + marker(trace.marker, 14, 7, trace.colour, r=4.5)


def scale_svg(chart: ScaleChart, *, standalone: bool = False, ids: str = "scales") -> str:
    """One line per participant over time, on a 0 to 10 axis."""
    keys = [(key_swatch(t), f"{t.label} (latest {t.latest})") for t in chart.traces]
    key_height = KEY_ROW * ((len(keys) + 1) // 2) + 8 if standalone else 0
    title = "Safety scales over time, one line per person"
    desc = chart.summary + ("" if standalone else " Every scale is in the table below.")
    out = _open(chart.width, chart.height + key_height, title, desc, ids=ids, standalone=standalone)
    out.append('<g class="grid">')
    for tick in chart.y_ticks:
        out.append(
            f'<line x1="{chart.plot_left}" x2="{chart.plot_right}" y1="{tick.position}" y2="{tick.position}" '
            f'stroke="{GRID}" stroke-width="1"/>'
        )
        out.append(_label(chart.plot_left - 8, tick.position + 4, tick.label, anchor="end"))
    out.append("</g>")
    out.extend(_axes(chart.plot_left, chart.plot_right, chart.plot_top, chart.plot_bottom))
    for tick in chart.x_ticks:
        out.append(_x_tick(tick.position, chart.plot_bottom, tick.label))
    for trace in chart.traces:
        dash = ' stroke-dasharray="6 4"' if trace.dashed else ""
        out.append(f'<g class="scale-line"><title>{text(trace.label)}</title>')
        if len(trace.markers) > 1:
            out.append(
                f'<polyline points="{trace.path}" fill="none" stroke="{trace.colour}" stroke-width="2.5"{dash}/>'
            )
        for m in trace.markers:
            out.append(marker(trace.marker, m.x, m.y, trace.colour, title=m.title))
        out.append("</g>")
    out.append(
        _label(
            chart.plot_left,
            chart.height - 4,
            "0: certain harm · 10: safe enough to close the case",
            anchor="start",
            cls="axis-title",
        )
    )
    if standalone:
        out.extend(_key(keys, chart.height + 4, chart.width, swatch=28))
    out.append("</svg>")
    return "\n".join(out)


def cloud_svg(picture: CloudPicture, *, ids: str = "cloud") -> str:
    """The keyword cloud as a picture (the page itself shows the words as links)."""
    height = max(picture.height, 48)
    out = _open(picture.width, height, "Key words in this case", picture.summary, ids=ids, standalone=True)
    if not picture.words:
        out.append(_label(picture.width / 2, height / 2 + 4, "No key words yet", cls="axis-title"))
    for w in picture.words:
        weight = ' font-weight="700"' if w.bold else ""
        out.append(
            f'<text x="{w.x}" y="{w.y}" font-size="{w.font_px}" fill="{w.colour}"{weight} {FONT}>{text(w.term)}'
            f"<title>{text(w.term)}: {w.documents} record{'' if w.documents == 1 else 's'}</title></text>"
        )
    out.append("</svg>")
    return "\n".join(out)
