"""Team routes: join requests and their decisions, leaving, removing, the lead, family links, break-glass."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from fastapi.responses import JSONResponse

from accounts.children.schemas import ChangeRead
from accounts.deps import AccountsDep, Id
from accounts.teams import service
from accounts.teams.schemas import (
    BreakGlassAsk,
    BreakGlassRead,
    ChildRequestsRead,
    DecisionReason,
    FamilyLinkCreate,
    JoinAsk,
    JoinAskSent,
    LeadHandOver,
    RequiredReason,
)
from shared.auth import PrincipalDep
from shared.policy import JoinRequest

router = APIRouter(tags=["team"])


@router.get("/me/join-requests", response_model=list[ChildRequestsRead])
async def list_requests_to_decide(principal: PrincipalDep, ctx: AccountsDep) -> list[ChildRequestsRead]:
    """Requests to join that I may approve or decline, child by child."""
    found = await service.requests_to_decide(ctx=ctx, principal=principal)
    return [
        ChildRequestsRead(child_id=c.child_id, display_name=c.display_name, requests=list(c.requests))
        for c in found
    ]


@router.post(
    "/children/{child_id}/join-requests",
    response_model=JoinRequest,
    status_code=201,
    responses={202: {"model": JoinAskSent, "description": "Sent, if the child has an account here."}},
)
async def create_join_request(
    child_id: Id, body: JoinAsk, principal: PrincipalDep, ctx: AccountsDep
) -> JoinRequest | JSONResponse:
    """Ask to join the child's team, saying why. 201 with the request; 202 when I may not learn whether the
    child has an account (a shielded child, or an id with no account): the answer is then the same."""
    request = await service.ask_to_join(ctx=ctx, principal=principal, child_id=child_id, reason=body.reason)
    if request is not None:
        return request
    sent = JoinAskSent(
        message="sent: if this child has an account here, its lead professional will decide on your request"
    )
    return JSONResponse(sent.model_dump(), status_code=status.HTTP_202_ACCEPTED)


@router.get("/children/{child_id}/join-requests", response_model=list[JoinRequest])
async def list_join_requests(child_id: Id, principal: PrincipalDep, ctx: AccountsDep) -> list[JoinRequest]:
    """Requests waiting for a decision (lead professional or manager)."""
    return await service.join_requests(ctx=ctx, principal=principal, child_id=child_id)


@router.post("/children/{child_id}/join-requests/{request_id}/approve", response_model=ChangeRead)
async def approve_join_request(
    child_id: Id, request_id: Id, body: DecisionReason, principal: PrincipalDep, ctx: AccountsDep
) -> ChangeRead:
    """Let the practitioner into the team."""
    child = await service.approve_join(
        ctx=ctx, principal=principal, child_id=child_id, request_id=request_id, reason=body.reason
    )
    return ChangeRead(child_id=child.child_id, seq=child.seq)


@router.post("/children/{child_id}/join-requests/{request_id}/decline", response_model=ChangeRead)
async def decline_join_request(
    child_id: Id, request_id: Id, body: RequiredReason, principal: PrincipalDep, ctx: AccountsDep
) -> ChangeRead:
    """Refuse the request, saying why."""
    child = await service.decline_join(
        ctx=ctx, principal=principal, child_id=child_id, request_id=request_id, reason=body.reason
    )
    return ChangeRead(child_id=child.child_id, seq=child.seq)


@router.post("/children/{child_id}/leave", status_code=204)
async def leave_team(child_id: Id, principal: PrincipalDep, ctx: AccountsDep) -> Response:
    """Leave the child's team; my access ends at once."""
    await service.leave(ctx=ctx, principal=principal, child_id=child_id)
    return Response(status_code=204)


@router.post("/children/{child_id}/members/{person_id}/remove", response_model=ChangeRead)
async def remove_member(
    child_id: Id, person_id: Id, body: RequiredReason, principal: PrincipalDep, ctx: AccountsDep
) -> ChangeRead:
    """Take someone off the team, saying why."""
    child = await service.remove_member(
        ctx=ctx, principal=principal, child_id=child_id, person_id=person_id, reason=body.reason
    )
    return ChangeRead(child_id=child.child_id, seq=child.seq)


@router.post("/children/{child_id}/lead", response_model=ChangeRead)
async def hand_over_lead(
    child_id: Id, body: LeadHandOver, principal: PrincipalDep, ctx: AccountsDep
) -> ChangeRead:
    """Make another team member the lead professional."""
    child = await service.hand_over_lead(
        ctx=ctx, principal=principal, child_id=child_id, person_id=body.person_id, reason=body.reason
    )
    return ChangeRead(child_id=child.child_id, seq=child.seq)


@router.post("/children/{child_id}/family", response_model=ChangeRead)
async def link_family(
    child_id: Id, body: FamilyLinkCreate, principal: PrincipalDep, ctx: AccountsDep
) -> ChangeRead:
    """Link a parent, carer or the child themself: they see the family view."""
    child = await service.link_family(
        ctx=ctx,
        principal=principal,
        child_id=child_id,
        person_id=body.person_id,
        relationship=body.relationship,
        views_shown_to_family=body.views_shown_to_family,
    )
    return ChangeRead(child_id=child.child_id, seq=child.seq)


@router.post("/children/{child_id}/family/{person_id}/unlink", response_model=ChangeRead)
async def unlink_family(
    child_id: Id, person_id: Id, body: RequiredReason, principal: PrincipalDep, ctx: AccountsDep
) -> ChangeRead:
    """End a family member's access, saying why."""
    child = await service.unlink_family(
        ctx=ctx, principal=principal, child_id=child_id, person_id=person_id, reason=body.reason
    )
    return ChangeRead(child_id=child.child_id, seq=child.seq)


@router.post("/children/{child_id}/break-glass", response_model=BreakGlassRead, status_code=201)
async def use_break_glass(
    child_id: Id, body: BreakGlassAsk, principal: PrincipalDep, ctx: AccountsDep
) -> BreakGlassRead:
    """Emergency read access without membership, for a purpose from the list and a reason: short, read-only,
    not renewed while it lasts; recorded on the audit log and on the child's timeline for the lead."""
    grant = await service.break_glass(
        ctx=ctx, principal=principal, child_id=child_id, purpose=body.purpose, reason=body.reason
    )
    until = grant.expires_at.strftime("%H:%M UTC")
    return BreakGlassRead(
        child_id=child_id,
        grant_id=grant.grant_id,
        expires_at=grant.expires_at,
        message=(
            f"read-only access until {until}; your purpose and reason are recorded on the audit log and shown "
            "to the lead professional on the child's timeline"
        ),
    )
