"""The child's page: who the child is, the team, who viewed the record, the chronology as a timeline, the
graph of agency contact, the keyword cloud and the safety scales; the family version of the same page; the lead's significance marks; exports.

Each part comes from the service that owns it, called with the viewer's own token, so what the page shows is
exactly what each service's access policy lets this person see.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import RedirectResponse

from shared.text import Line, Prose
from shared.topics import AGENCIES
from web.charts import graph_view, scales_view
from web.clients import BackendError, Forbidden, Rejected
from web.cloud import cloud_view
from web.labels import CONTACT_TYPE_LABELS
from web.models import ChildHeader
from web.pages.common import EntryId, FormUserDep, SafeId, SignedIn, SignedInDep, Web, render, web_of
from web.pages.forum import FORUM_LABELS
from web.sections import Sections
from web.timeline import arrange, corrections, impact_of

ENTRY_KINDS = {
    "contact": "Contacts from agencies",
    "account": "Changes to the team and the record",
    "forum": "Worries, plans and safety scales from the forum",
}
Text = Annotated[Line, Query(max_length=40)]
PAGE_SIZE = 100
PRINT_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


@dataclass(frozen=True)
class Filters:
    """The timeline's filters as the reader set them (strings as typed; `problem` when one makes no sense)."""

    date_from: str = ""
    date_to: str = ""
    agency: str = ""
    contact_type: str = ""
    significant_only: bool = False
    kind: str = ""
    cursor: str = ""
    granularity: Literal["auto", "week", "month"] = "auto"
    problem: str | None = None

    @property
    def active(self) -> bool:
        chosen = (
            self.date_from,
            self.date_to,
            self.agency,
            self.contact_type,
            self.significant_only,
            self.kind,
        )
        return any(chosen)

    def backend_params(self) -> dict[str, str | int | bool | list[str] | None]:
        return {
            "date_from": self.date_from or None,
            "date_to": self.date_to or None,
            "agency": [self.agency] if self.agency else None,
            "contact_type": [self.contact_type] if self.contact_type else None,
            "significant_only": True if self.significant_only else None,
            "kind": [self.kind] if self.kind else None,
            "limit": PAGE_SIZE,
            "cursor": self.cursor or None,
        }

    def query(self, **changes: str | None) -> str:
        """This page's query string with `changes` (None removes a parameter)."""
        values: dict[str, str] = {
            "date_from": self.date_from,
            "date_to": self.date_to,
            "agency": self.agency,
            "contact_type": self.contact_type,
            "significant_only": "1" if self.significant_only else "",
            "kind": self.kind,
            "cursor": self.cursor,
            "granularity": "" if self.granularity == "auto" else self.granularity,
        }
        for key, value in changes.items():
            values[key] = value or ""
        kept = {k: v for k, v in values.items() if v}
        return "?" + urlencode(kept) if kept else ""


def read_filters(
    date_from: str,
    date_to: str,
    agency: str,
    contact_type: str,
    significant_only: str,
    kind: str,
    cursor: str,
    granularity: str,
) -> Filters:
    problem = None
    days: list[date | None] = []
    for name, value in (("from", date_from), ("to", date_to)):
        try:
            days.append(date.fromisoformat(value) if value else None)
        except ValueError:
            problem = f"The '{name}' date is not a date; it was left out."
            days.append(None)
    start, end = days
    if start and end and end < start:
        problem = "The 'to' date is before the 'from' date; they were swapped."
        start, end = end, start
    return Filters(
        date_from=start.isoformat() if start else "",
        date_to=end.isoformat() if end else "",
        agency=agency if agency in AGENCIES else "",
        contact_type=contact_type if contact_type in CONTACT_TYPE_LABELS else "",
        significant_only=significant_only in ("1", "true", "on"),
        kind=kind if kind in ENTRY_KINDS else "",
        cursor=cursor if cursor.isdigit() else "",
        granularity="week" if granularity == "week" else "month" if granularity == "month" else "auto",
        problem=problem,
    )


def can_mark_significance(user: SignedIn, header: ChildHeader) -> bool:
    """Whether to offer the significance control (the chronology service checks again)."""
    if header.relationship == "lead":
        return True
    return user.principal.kind == "manager" and header.relationship == "member"


router = APIRouter()


@router.get("/children/{child_id}", summary="The child's page")
async def child_page(
    request: Request,
    child_id: SafeId,
    user: SignedInDep,
    date_from: Text = "",
    date_to: Text = "",
    agency: Text = "",
    contact_type: Text = "",
    significant_only: Text = "",
    kind: Text = "",
    cursor: Text = "",
    granularity: Text = "",
    keyword: Annotated[Line, Query(max_length=200)] = "",
) -> Response:
    """Everything about the child this person may see, on one page."""
    filters = read_filters(
        date_from, date_to, agency, contact_type, significant_only, kind, cursor, granularity
    )
    page = await load_page(web_of(request), user, child_id, filters, keyword=keyword.strip())
    return render(request, "child.html", **page)


async def load_page(
    web: Web, user: SignedIn, child_id: str, filters: Filters, *, keyword: str = ""
) -> dict[str, Any]:
    """What `child.html` shows this person: every section fetched at once, each failing on its own, but no
    page at all if who the child is cannot be read. (The page benchmark's baseline preloads the same.)"""
    sections = Sections(timeout_s=web.settings.section_timeout_s)
    overview_section = sections.add("accounts", web.accounts.overview(child_id, token=user.token))
    chronology_section = sections.add(
        "chronology", web.chronology.chronology(child_id, token=user.token, params=filters.backend_params())
    )
    analytics_section = sections.add(
        "analytics", web.analytics.overview(child_id, token=user.token, granularity=filters.granularity)
    )
    board_section = sections.add("forum", web.forum.board(child_id, token=user.token))
    chosen = (
        sections.add("analytics", web.analytics.keyword_entries(child_id, keyword, token=user.token))
        if keyword
        else None
    )
    await sections.fetch()
    overview, chronology, analytics = (
        overview_section.value,
        chronology_section.value,
        analytics_section.value,
    )
    if isinstance(overview, BackendError):
        raise overview  # who the child is decides whether there is a page at all
    header, viewers = overview
    graph, cloud, scales = (analytics,) * 3 if isinstance(analytics, BackendError) else analytics
    family = header.view == "family"
    entries = [] if isinstance(chronology, BackendError) else chronology.entries
    return {
        "child": header,
        "family": family,
        "today": date.today(),
        "viewers": viewers,
        "chronology": chronology,
        "days": arrange(entries),
        "by_id": corrections(entries),
        "impact": lambda code: impact_of(code, family=family, child_name=header.given_name),
        "graph": graph_view(graph),
        "scales": scales_view(scales),
        "cloud": cloud_view(child_id, cloud, None if chosen is None else chosen.value),
        "filters": filters,
        "agencies": AGENCIES,
        "contact_types": CONTACT_TYPE_LABELS,
        "entry_kinds": ENTRY_KINDS,
        "can_mark": can_mark_significance(user, header),
        "board": board_section.value,
        "forum_labels": FORUM_LABELS,
    }


@router.post("/children/{child_id}/entries/{entry_id}/significance", summary="Mark an entry significant")
async def mark_significance(
    request: Request,
    child_id: SafeId,
    entry_id: EntryId,
    user: FormUserDep,
    significant: Annotated[Line, Form(max_length=5)] = "true",
    reason: Annotated[Prose, Form(max_length=2000)] = "",
) -> Response:
    """The lead professional marks an entry as significant, or takes the mark off, saying why."""
    web = web_of(request)
    mark = significant == "true"
    reason = reason.strip() or ("marked significant" if mark else "no longer significant")
    try:
        await web.chronology.mark_significance(
            child_id, entry_id, token=user.token, significant=mark, reason=reason
        )
    except (Rejected, Forbidden) as err:
        return render(
            request,
            "error.html",
            status_code=err.status,
            title="The entry could not be changed",
            message=err.detail,
            back=f"/children/{child_id}",
        )
    done = "marked" if mark else "unmarked"
    return RedirectResponse(f"/children/{child_id}?done={done}#entry-{entry_id}", status_code=303)


@router.get("/children/{child_id}/chronology.csv", summary="The chronology as CSV")
async def export_csv(request: Request, child_id: SafeId, user: SignedInDep) -> Response:
    """Download the chronology as a spreadsheet (CSV), exactly as chronology exports it for this person."""
    answer = await web_of(request).chronology.export(child_id, token=user.token, printable=False)
    return Response(
        answer.content,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="chronology-{child_id}.csv"'},
    )


@router.get("/children/{child_id}/chronology/print", summary="The chronology, printable")
async def export_printable(request: Request, child_id: SafeId, user: SignedInDep) -> Response:
    """The chronology as a printable page, as chronology renders it for this person."""
    answer = await web_of(request).chronology.export(child_id, token=user.token, printable=True)
    return Response(
        answer.content,
        media_type="text/html; charset=utf-8",
        headers={"Content-Security-Policy": PRINT_CSP},
    )
