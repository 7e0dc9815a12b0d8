"""Routes for contacts waiting to be identified: managers see them and say which child each was about."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path
from pydantic import BaseModel, Field

from accounts import identify
from accounts.identify import ContactMatch, ContactMatchStore, Publish
from accounts.service import Accounts
from shared.auth import PrincipalDep
from shared.policy import Decision, Principal, decide

MatchId = Annotated[str, Path(min_length=1, max_length=100)]


class ContactResolution(BaseModel):
    child_id: str = Field(min_length=1, max_length=100, description="The child the contact was about.")


class ContactResolved(BaseModel):
    contact_id: str
    child_id: str


def router(ctx: Accounts, matches: ContactMatchStore, publish: Publish) -> APIRouter:
    api = APIRouter(tags=["children"])

    async def check(principal: Principal, child_id: str | None, detail: str) -> Decision:
        decision = decide(principal, "resolve_match", None, now=datetime.now(UTC))
        await ctx.trail.record(
            principal=principal, action="resolve_match", child_id=child_id, decision=decision, detail=detail
        )
        if not decision.allowed:
            raise HTTPException(status_code=403, detail=decision.reason)
        return decision

    @api.get("/contact-matches", response_model=list[ContactMatch])
    async def list_contact_matches(principal: PrincipalDep) -> list[ContactMatch]:
        """Agency contacts without an NHS number that no child matched exactly, oldest first."""
        await check(principal, None, "list contacts waiting to be identified")
        return await matches.waiting()

    @api.post("/contact-matches/{match_id}/resolve", response_model=ContactResolved)
    async def resolve_contact_match(
        match_id: MatchId, body: ContactResolution, principal: PrincipalDep
    ) -> ContactResolved:
        """Say which child a waiting contact was about; it then joins that child's chronology and graph."""
        await check(principal, body.child_id, f"contact {match_id}")
        try:
            await identify.confirm_contact(
                children=ctx.store,
                matches=matches,
                publish=publish,
                match_id=match_id,
                child_id=body.child_id,
                by=principal.subject,
            )
        except identify.UnknownChild as err:
            raise HTTPException(status_code=404, detail=str(err)) from err
        except identify.AlreadyResolved as err:
            raise HTTPException(status_code=409, detail=str(err)) from err
        except LookupError as err:
            raise HTTPException(status_code=404, detail=str(err)) from err
        return ContactResolved(contact_id=match_id, child_id=body.child_id)

    return api
