"""Identity routes: registrations and agency contacts waiting for a manager to say which child they are."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from accounts.deps import AccountsDep, Id
from accounts.identity import service
from accounts.identity.models import ContactMatch
from accounts.identity.schemas import ContactResolution, ContactResolved, MatchRead, MatchResolve
from shared.auth import PrincipalDep
from shared.text import Line

# A waiting contact's id: `<agency>:<event id>` (`entry_key`); control characters refused, as everywhere.
MatchId = Annotated[Line, Path(min_length=1, max_length=140)]

router = APIRouter(tags=["children"])


@router.get("/matches", response_model=list[MatchRead])
async def list_matches(principal: PrincipalDep, ctx: AccountsDep) -> list[MatchRead]:
    """Registrations waiting for a manager responsible for one of their candidates (only those are shown)."""
    found = await service.open_matches(ctx=ctx, principal=principal)
    return [MatchRead.of(match, candidates) for match, candidates in found]


@router.post("/matches/{match_id}/resolve", response_model=MatchRead)
async def resolve_match(
    match_id: Id, body: MatchResolve, principal: PrincipalDep, ctx: AccountsDep
) -> MatchRead:
    """One of the candidates, `same_child_id` (the registration becomes a request to join it), or none of
    these (null: a new child, its account is opened)."""
    match = await service.resolve_match(
        ctx=ctx, principal=principal, match_id=match_id, same_child_id=body.same_child_id
    )
    return MatchRead.of(match, [])


@router.get("/contact-matches", response_model=list[ContactMatch])
async def list_contact_matches(principal: PrincipalDep, ctx: AccountsDep) -> list[ContactMatch]:
    """Agency contacts without an NHS number that no child matched exactly, oldest first, for the managers
    responsible for their candidates."""
    return await service.waiting_contacts(ctx=ctx, principal=principal)


@router.post("/contact-matches/{match_id}/resolve", response_model=ContactResolved)
async def resolve_contact_match(
    match_id: MatchId, body: ContactResolution, principal: PrincipalDep, ctx: AccountsDep
) -> ContactResolved:
    """Say which candidate a waiting contact was about (it then joins that child's chronology and graph), or
    none of them."""
    resolved = await service.identify_contact(
        ctx=ctx, principal=principal, match_id=match_id, child_id=body.child_id
    )
    return ContactResolved(contact_id=match_id, status=resolved.status, child_id=resolved.child_id)
