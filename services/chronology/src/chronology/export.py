"""A child's chronology as CSV and as a printable page: what a reader may see, nothing more.

The entries come as the service shows them to this reader (hidden providers, withheld authors, the family's
lens); the family's exports also leave out the RAG column, which their page does not show."""

from __future__ import annotations

import csv
import html
import io

from chronology.models import ChronologyEntry

COLUMNS = (
    "date",
    "date uncertain",
    "agency",
    "author",
    "type",
    "summary",
    "impact",
    "action taken",
    "outcome",
    "significant",
    "RAG",
    "status",
)


def _columns(family_view: bool) -> tuple[str, ...]:
    return tuple(c for c in COLUMNS if not (family_view and c == "RAG"))


def _cells(e: ChronologyEntry, family_view: bool) -> list[str]:
    row = _row(e)
    return [v for c, v in zip(COLUMNS, row, strict=True) if not (family_view and c == "RAG")]


def _row(e: ChronologyEntry) -> list[str]:
    author = f"{e.author.name} ({e.author.role})" if e.author else ""
    status = f"corrected by {e.superseded_by}" if e.superseded_by else ("correction" if e.supersedes else "")
    return [
        e.occurred_at.strftime("%Y-%m-%d %H:%M"),
        "yes" if e.date_uncertain else "",
        e.agency,
        author,
        e.contact_type.replace("_", " "),
        e.summary,
        e.impact,
        e.action_taken or "",
        e.outcome or "",
        "yes" if e.significant else "",
        e.rag or "",
        status,
    ]


# A cell starting with one of these runs as a formula in a spreadsheet (OWASP "CSV injection"); tab and
# carriage return count too, since spreadsheets skip them before looking for the formula sign.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _as_text(value: str) -> str:
    """The cell as text: a leading apostrophe makes spreadsheets show a would-be formula as it is written."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def to_csv(entries: list[ChronologyEntry], *, family_view: bool) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(_columns(family_view))
    for entry in entries:
        writer.writerow([_as_text(v) for v in _cells(entry, family_view)])
    return out.getvalue()


def to_printable(child_id: str, entries: list[ChronologyEntry], *, family_view: bool) -> str:
    rows = "\n".join(
        "<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in _cells(e, family_view)) + "</tr>"
        for e in entries
    )
    heading = "".join(f"<th scope='col'>{html.escape(c)}</th>" for c in _columns(family_view))
    view = "Family view" if family_view else "Practitioner view"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Chronology for child {html.escape(child_id)}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2rem}}table{{border-collapse:collapse;width:100%}}
td,th{{border:1px solid #999;padding:.3rem;vertical-align:top;font-size:.85rem}}th{{background:#eee}}</style>
</head><body><h1>Chronology for child {html.escape(child_id)}</h1>
<p>{view}. {len(entries)} entries. Official — sensitive: handle under your information-sharing agreement.</p>
<table><thead><tr>{heading}</tr></thead><tbody>
{rows}
</tbody></table></body></html>
"""
