"""'My children', finding a child, and asking to join a child's team."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from shared.identity import nhs_number_problem, normalise_nhs_number
from shared.text import Line, Prose
from web.clients import BackendError, Forbidden, Rejected
from web.models import ChildChanges, ChildHeader
from web.pages.common import FormUserDep, SafeId, SignedIn, SignedInDep, Web, render, web_of

REASON_MIN = 3


router = APIRouter()


@router.get("/", summary="Home")
async def home(user: SignedInDep) -> Response:
    """Signed in: my children; otherwise the sign-in page."""
    return RedirectResponse("/children", status_code=303)


@router.get("/children", summary="My children")
async def my_children(request: Request, user: SignedInDep) -> Response:
    """The children whose team I am in, or whose family I am, with what changed since I last looked."""
    web = web_of(request)
    children: list[ChildHeader] = []
    if user.practitioner or user.family:
        children = await web.accounts.my_children(token=user.token)
    waiting = sum(c.pending_requests or 0 for c in children)
    return render(
        request,
        "my_children.html",
        children=children,
        waiting=waiting,
        today=date.today(),
        changes=await _changes(web, user, children),
        change_labels=CHANGE_LABELS,
    )


# What each kind of notification is called on 'My children', singular and plural.
CHANGE_LABELS: dict[str, tuple[str, str]] = {
    "significant_contact": ("significant event", "significant events"),
    "significance_marked": ("entry marked significant", "entries marked significant"),
    "forum_worry": ("worry in the forum", "worries in the forum"),
    "forum_mention": ("mention of you", "mentions of you"),
    "cross_agency_pattern": ("concern from several agencies", "concerns from several agencies"),
    "record_opened": ("new viewer", "new viewers"),
    "break_glass_used": ("break-glass access", "break-glass accesses"),
    "join_requested": ("request to join", "requests to join"),
}


async def _changes(web: Web, user: SignedIn, children: list[ChildHeader]) -> dict[str, ChildChanges] | None:
    """What changed per child since this person last looked; None when notifications cannot say (the list
    of children never fails because of it)."""
    if not children:
        return {}
    try:
        found = await web.notifications.changes([c.child_id for c in children], token=user.token)
    except BackendError:
        return None
    return {c.child_id: c for c in found.children}


@router.get("/find", summary="Find a child")
async def show_find(request: Request, user: SignedInDep) -> Response:
    """The search form."""
    return render(request, "find.html", form={}, results=None, errors={})


@router.post("/find", summary="Find a child")
async def find(
    request: Request,
    user: FormUserDep,
    nhs_number: Annotated[Line, Form(max_length=20)] = "",
    given_name: Annotated[Line, Form(max_length=200)] = "",
    family_name: Annotated[Line, Form(max_length=200)] = "",
    date_of_birth: Annotated[Line, Form(max_length=10)] = "",
) -> Response:
    """Search by NHS number, or by name and date of birth (posted, so identifiers stay out of URLs)."""
    web = web_of(request)
    form = {
        "nhs_number": nhs_number.strip(),
        "given_name": given_name.strip(),
        "family_name": family_name.strip(),
        "date_of_birth": date_of_birth.strip(),
    }
    errors: dict[str, str] = {}
    born: date | None = None
    number: str | None = None
    if form["nhs_number"]:
        problem = nhs_number_problem(form["nhs_number"])
        if problem:
            errors["nhs_number"] = f"Check the NHS number: {problem}."
        number = normalise_nhs_number(form["nhs_number"])
    else:
        if not form["given_name"]:
            errors["given_name"] = "Enter the child's first name, or search by NHS number."
        if not form["family_name"]:
            errors["family_name"] = "Enter the child's last name, or search by NHS number."
        try:
            born = date.fromisoformat(form["date_of_birth"])
        except ValueError:
            errors["date_of_birth"] = "Enter the child's date of birth, for example 14/05/2014."
    if errors:
        return render(request, "find.html", status_code=400, form=form, results=None, errors=errors)
    try:
        results = await web.accounts.search(
            token=user.token,
            nhs_number=number,
            given_name=None if number else form["given_name"],
            family_name=None if number else form["family_name"],
            date_of_birth=None if number else born,
        )
    except Rejected as err:
        return render(
            request, "find.html", status_code=400, form=form, results=None, errors={"search": err.detail}
        )
    return render(request, "find.html", form=form, results=results, errors={})


@router.post("/children/{child_id}/join", summary="Ask to join a child's team")
async def ask_to_join(
    request: Request,
    child_id: SafeId,
    user: FormUserDep,
    reason: Annotated[Prose, Form(max_length=2000)] = "",
) -> Response:
    """Ask the lead professional to let me into the child's team, saying why."""
    web = web_of(request)
    if len(reason.strip()) < REASON_MIN:
        return render(
            request,
            "find.html",
            status_code=400,
            form={},
            results=None,
            errors={"search": "Say why you need to join the child's team, then ask again."},
        )
    try:
        await web.accounts.ask_to_join(child_id, token=user.token, reason=reason.strip())
    except (Rejected, Forbidden) as err:
        return render(
            request,
            "find.html",
            status_code=err.status,
            form={},
            results=None,
            errors={"search": err.detail},
        )
    return RedirectResponse("/children?done=asked", status_code=303)
