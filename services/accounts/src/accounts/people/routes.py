"""People's routes: sign-in and its keys (the only routes without a token), me, adding people."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request

from accounts.deps import AccountsDep, SigningKeysDep
from accounts.people import service
from accounts.people.schemas import PersonCreate, PersonRead, SignIn, TokenRead
from shared.auth import PrincipalDep
from shared.topics import AGENCIES

router = APIRouter()


@router.post("/auth/token", response_model=TokenRead, tags=["sign-in"])
async def create_token(body: SignIn, ctx: AccountsDep, keys: SigningKeysDep) -> TokenRead:
    """Sign in with a user name and password; the token goes in `Authorization: Bearer ...`."""
    issued = await service.sign_in(ctx=ctx, keys=keys, username=body.username, password=body.password)
    return TokenRead(
        access_token=issued.access_token,
        expires_at=issued.expires_at,
        expires_in=int((issued.expires_at - datetime.now(UTC)).total_seconds()),
    )


@router.get("/.well-known/jwks.json", tags=["sign-in"])
async def get_jwks(keys: SigningKeysDep) -> dict[str, Any]:
    """The public keys every service verifies tokens with."""
    return keys.jwks()


@router.get("/.well-known/openid-configuration", tags=["sign-in"])
async def get_openid_configuration(request: Request, keys: SigningKeysDep) -> dict[str, Any]:
    """Enough OIDC discovery for a client to find the keys and the token endpoint."""
    return keys.discovery(str(request.base_url))


@router.get("/me", response_model=PersonRead, tags=["people"])
async def get_me(principal: PrincipalDep, ctx: AccountsDep) -> PersonRead:
    """Who I am signed in as."""
    return PersonRead.of(await service.me(ctx=ctx, principal=principal))


@router.post("/people", response_model=PersonRead, status_code=201, tags=["people"])
async def create_person(body: PersonCreate, principal: PrincipalDep, ctx: AccountsDep) -> PersonRead:
    """Add a family member, or (managers) a member of staff of my agency."""
    person = await service.create_person(ctx=ctx, principal=principal, **body.model_dump())
    return PersonRead.of(person)


@router.get("/agencies", tags=["people"])
async def list_agencies(principal: PrincipalDep) -> list[str]:
    """The agencies that take part."""
    return list(AGENCIES)
