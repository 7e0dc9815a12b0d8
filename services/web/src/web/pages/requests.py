"""The lead professional's list of requests to join, to approve or decline."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from shared.text import Prose
from web.clients import Rejected
from web.pages.common import FormUserDep, SafeId, SignedInDep, render, web_of

REASON_MIN = 3


router = APIRouter()


@router.get("/requests", summary="Requests to join, to decide")
async def list_requests(request: Request, user: SignedInDep) -> Response:
    """Requests to join that I may approve or decline, child by child."""
    web = web_of(request)
    found = await web.accounts.requests_to_decide(token=user.token) if user.practitioner else []
    return render(request, "requests.html", children=found, error=None)


@router.post("/children/{child_id}/requests/{request_id}/{verb}", summary="Approve or decline a request")
async def decide(
    request: Request,
    child_id: SafeId,
    request_id: SafeId,
    verb: Literal["approve", "decline"],
    user: FormUserDep,
    reason: Annotated[Prose, Form(max_length=2000)] = "",
) -> Response:
    """Let the practitioner into the team, or decline saying why."""
    web = web_of(request)
    approve = verb == "approve"
    reason = reason.strip()
    error: str | None = None
    if not approve and len(reason) < REASON_MIN:
        error = "Give a reason for declining: the practitioner will see it."
    else:
        try:
            await web.accounts.decide_request(
                child_id, request_id, token=user.token, approve=approve, reason=reason or None
            )
        except Rejected as err:
            error = err.detail
    if error is not None:
        found = await web.accounts.requests_to_decide(token=user.token)
        return render(request, "requests.html", status_code=400, children=found, error=error)
    return RedirectResponse(f"/requests?done={'approved' if approve else 'declined'}", status_code=303)
