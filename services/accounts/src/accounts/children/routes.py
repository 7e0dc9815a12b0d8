"""Children's routes: open an account, find a child, the child's header (alone or with its viewers), the flags,
my children."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from accounts.children import service
from accounts.children.overview import ChildOverview, child_overview
from accounts.children.schemas import ChangeRead, ChildCreate, FlagsUpdate, RegistrationRead
from accounts.children.views import ChildHeader
from accounts.deps import AccountsDep, Id
from shared.auth import PrincipalDep
from shared.text import Line

router = APIRouter(tags=["children"])


@router.get("/me/children", response_model=list[ChildHeader])
async def list_my_children(principal: PrincipalDep, ctx: AccountsDep) -> list[ChildHeader]:
    """The children whose team I am in, or whose family I am."""
    return await service.my_children(ctx=ctx, principal=principal)


@router.post("/children", response_model=RegistrationRead, status_code=201)
async def create_child(
    body: ChildCreate, principal: PrincipalDep, ctx: AccountsDep, response: Response
) -> RegistrationRead:
    """Open a child's account (I become the lead professional). If the child may already have one, 202 with
    `match_id`: a manager confirms, and the answer is the same for an exact and a near match; 409 with
    `child_id` only to someone who may already see that child."""
    outcome = await service.register_child(
        ctx=ctx,
        principal=principal,
        details=body.details(),
        shielded=body.shielded,
        sensitive_service=body.sensitive_service,
    )
    if outcome.match is not None:
        response.status_code = status.HTTP_202_ACCEPTED
        return RegistrationRead(
            status="pending_match",
            match_id=outcome.match.match_id,
            message=(
                "submitted: a manager will confirm whether this child already has an account; if so, this "
                "becomes your request to join the child's team"
            ),
        )
    assert outcome.child is not None
    return RegistrationRead(status="created", child_id=outcome.child.child_id, message="account opened")


@router.get("/children/search", response_model=list[ChildHeader])
async def search_children(
    principal: PrincipalDep,
    ctx: AccountsDep,
    nhs_number: Annotated[Line | None, Query(max_length=20)] = None,
    given_name: Annotated[Line | None, Query(max_length=200)] = None,
    family_name: Annotated[Line | None, Query(max_length=200)] = None,
    date_of_birth: date | None = None,
) -> list[ChildHeader]:
    """Find a child by NHS number, or by full name and date of birth. Only what I may see comes back."""
    return await service.search(
        ctx=ctx,
        principal=principal,
        nhs_number=nhs_number,
        given_name=given_name,
        family_name=family_name,
        date_of_birth=date_of_birth,
    )


@router.get("/children/{child_id}", response_model=ChildHeader)
async def get_child(child_id: Id, principal: PrincipalDep, ctx: AccountsDep) -> ChildHeader:
    """The child's header and team directory, as I may see them."""
    return await service.child_header(ctx=ctx, principal=principal, child_id=child_id)


@router.get("/children/{child_id}/overview", response_model=ChildOverview)
async def get_child_overview(child_id: Id, principal: PrincipalDep, ctx: AccountsDep) -> ChildOverview:
    """The child's header and who has viewed the record, in one read (what the child's page shows from
    accounts); each audited as its own access, and the viewers left out, with the reason, if refused."""
    return await child_overview(ctx=ctx, principal=principal, child_id=child_id)


@router.put("/children/{child_id}/flags", response_model=ChangeRead)
async def update_flags(
    child_id: Id, body: FlagsUpdate, principal: PrincipalDep, ctx: AccountsDep
) -> ChangeRead:
    """Set the shielded and sensitive-service flags (lead professional or manager)."""
    child = await service.change_flags(ctx=ctx, principal=principal, child_id=child_id, **body.model_dump())
    return ChangeRead(child_id=child.child_id, seq=child.seq)
