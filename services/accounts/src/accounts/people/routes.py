"""People's routes: sign-in, refresh and the keys (the only routes without a token), sign-out, me, adding,
disabling and enabling people."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response

from accounts.deps import AccountsDep, ClientDep, Id, SigningKeysDep, ThrottleDep
from accounts.people import service, signin
from accounts.people.schemas import PersonCreate, PersonRead, Refresh, SignIn, StatusChange, TokenRead
from shared.auth import PrincipalDep, VerifiedTokenDep
from shared.topics import AGENCIES

router = APIRouter()


def _read(tokens: signin.Tokens) -> TokenRead:
    issued = tokens.access
    return TokenRead(
        access_token=issued.access_token,
        expires_at=issued.expires_at,
        expires_in=int((issued.expires_at - datetime.now(UTC)).total_seconds()),
        refresh_token=tokens.refresh_token,
        refresh_expires_at=tokens.refresh_expires_at,
    )


@router.post("/auth/token", response_model=TokenRead, tags=["sign-in"])
async def create_token(
    body: SignIn, ctx: AccountsDep, keys: SigningKeysDep, throttle: ThrottleDep, client: ClientDep
) -> TokenRead:
    """Sign in with a user name and password; the access token goes in `Authorization: Bearer ...`. Every
    refusal answers the same 401, and too many attempts 429."""
    tokens = await signin.sign_in(
        ctx=ctx, keys=keys, throttle=throttle, username=body.username, password=body.password, client=client
    )
    return _read(tokens)


@router.post("/auth/refresh", response_model=TokenRead, tags=["sign-in"])
async def refresh_token(
    body: Refresh, ctx: AccountsDep, keys: SigningKeysDep, throttle: ThrottleDep, client: ClientDep
) -> TokenRead:
    """A new access token and refresh token for a live sign-in; the refresh token sent is spent, and sending
    it again ends the sign-in."""
    tokens = await signin.refresh(
        ctx=ctx, keys=keys, throttle=throttle, refresh_token=body.refresh_token, client=client
    )
    return _read(tokens)


@router.post("/auth/sign-out", status_code=204, tags=["sign-in"])
async def sign_out(token: VerifiedTokenDep, ctx: AccountsDep, keys: SigningKeysDep) -> Response:
    """End my sign-in: its access and refresh tokens stop working in every service within seconds."""
    await signin.sign_out(ctx=ctx, keys=keys, principal=token.principal, session_id=token.session_id)
    return Response(status_code=204)


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
async def create_person(
    body: PersonCreate, principal: PrincipalDep, ctx: AccountsDep, throttle: ThrottleDep
) -> PersonRead:
    """Add a family member, or (managers) a member of staff of my agency."""
    person = await service.create_person(ctx=ctx, throttle=throttle, principal=principal, **body.model_dump())
    return PersonRead.of(person)


@router.post("/people/{person_id}/disable", response_model=PersonRead, tags=["people"])
async def disable_person(
    person_id: Id,
    body: StatusChange,
    principal: PrincipalDep,
    ctx: AccountsDep,
    keys: SigningKeysDep,
    throttle: ThrottleDep,
) -> PersonRead:
    """Disable an account of my agency's staff, or a family account: it can no longer sign in, and its
    tokens stop working in every service within seconds."""
    person = await service.set_disabled(
        ctx=ctx,
        keys=keys,
        throttle=throttle,
        principal=principal,
        person_id=person_id,
        disabled=True,
        reason=body.reason,
    )
    return PersonRead.of(person)


@router.post("/people/{person_id}/enable", response_model=PersonRead, tags=["people"])
async def enable_person(
    person_id: Id,
    body: StatusChange,
    principal: PrincipalDep,
    ctx: AccountsDep,
    keys: SigningKeysDep,
    throttle: ThrottleDep,
) -> PersonRead:
    """Let a disabled account sign in again (its old tokens stay refused) and lift any sign-in lock."""
    person = await service.set_disabled(
        ctx=ctx,
        keys=keys,
        throttle=throttle,
        principal=principal,
        person_id=person_id,
        disabled=False,
        reason=body.reason,
    )
    return PersonRead.of(person)


@router.get("/agencies", tags=["people"])
async def list_agencies(principal: PrincipalDep) -> list[str]:
    """The agencies that take part."""
    return list(AGENCIES)
