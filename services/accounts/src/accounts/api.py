"""Accounts' HTTP routes: thin; each authenticates, calls one service function (which checks the shared
policy and records the access) and maps domain errors to status codes."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Path, Query, Request, Response, status
from fastapi.responses import JSONResponse

from accounts import service, signin
from accounts.auditlog import Viewer
from accounts.domain import Conflict, DomainError, Invalid, NotFound
from accounts.schemas import (
    BreakGlassRead,
    ChangeRead,
    ChildCreate,
    ChildRequestsRead,
    DecisionReason,
    FamilyLinkCreate,
    FlagsUpdate,
    JoinAsk,
    LeadHandOver,
    MatchRead,
    MatchResolve,
    PersonCreate,
    PersonRead,
    RegistrationRead,
    RequiredReason,
    SignIn,
    TokenRead,
)
from accounts.service import Accounts
from accounts.signin import SigningKeys
from accounts.store import AuditEntry
from accounts.views import ChildHeader
from shared.auth import PrincipalDep
from shared.policy import JoinRequest
from shared.topics import AGENCIES

Id = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")]


def _status_of(err: DomainError) -> int:
    if isinstance(err, service.AccessDenied):
        return status.HTTP_403_FORBIDDEN
    if isinstance(err, NotFound):
        return status.HTTP_404_NOT_FOUND
    if isinstance(err, Conflict):
        return status.HTTP_409_CONFLICT
    if isinstance(err, Invalid):
        return status.HTTP_422_UNPROCESSABLE_CONTENT
    if isinstance(err, signin.SignInFailed):
        return status.HTTP_401_UNAUTHORIZED
    if isinstance(err, signin.KeysNotReady | service.AuditUnavailable):
        return status.HTTP_503_SERVICE_UNAVAILABLE
    return status.HTTP_400_BAD_REQUEST


def install_error_handlers(app: FastAPI) -> None:
    """Domain errors become status codes with the reason as `detail`."""

    async def on_domain_error(_: Request, err: Exception) -> Response:
        assert isinstance(err, DomainError)
        body: dict[str, Any] = {"detail": str(err)}
        if isinstance(err, service.AlreadyRegistered):
            body["child_id"] = err.child_id
        return JSONResponse(body, status_code=_status_of(err))

    app.add_exception_handler(DomainError, on_domain_error)


def router(ctx: Accounts, keys: SigningKeys) -> APIRouter:
    api = APIRouter()
    store = ctx.store

    # --- sign-in and keys (the only routes without a token) ---

    @api.post("/auth/token", response_model=TokenRead, tags=["sign-in"])
    async def create_token(body: SignIn) -> TokenRead:
        """Sign in with a user name and password; the token goes in `Authorization: Bearer ...`."""
        issued = await signin.sign_in(store=store, keys=keys, username=body.username, password=body.password)
        return TokenRead(
            access_token=issued.access_token,
            expires_at=issued.expires_at,
            expires_in=int((issued.expires_at - datetime.now(UTC)).total_seconds()),
        )

    @api.get("/.well-known/jwks.json", tags=["sign-in"])
    async def get_jwks() -> dict[str, Any]:
        """The public keys every service verifies tokens with."""
        return keys.jwks()

    @api.get("/.well-known/openid-configuration", tags=["sign-in"])
    async def get_openid_configuration(request: Request) -> dict[str, Any]:
        """Enough OIDC discovery for a client to find the keys and the token endpoint."""
        base = str(request.base_url).rstrip("/")
        return {
            "issuer": keys.issuer.issuer,
            "jwks_uri": f"{base}/.well-known/jwks.json",
            "token_endpoint": f"{base}/auth/token",
            "id_token_signing_alg_values_supported": ["ES256", "RS256"],
            "claims_supported": ["sub", "name", "kind", "agency", "role"],
        }

    # --- me ---

    @api.get("/me", response_model=PersonRead, tags=["people"])
    async def get_me(principal: PrincipalDep) -> PersonRead:
        """Who I am signed in as."""
        return PersonRead.of(await service.me(ctx=ctx, principal=principal))

    @api.get("/me/children", response_model=list[ChildHeader], tags=["children"])
    async def list_my_children(principal: PrincipalDep) -> list[ChildHeader]:
        """The children whose team I am in, or whose family I am."""
        return await service.my_children(ctx=ctx, principal=principal)

    @api.get("/me/join-requests", response_model=list[ChildRequestsRead], tags=["team"])
    async def list_requests_to_decide(principal: PrincipalDep) -> list[ChildRequestsRead]:
        """Requests to join that I may approve or decline, child by child."""
        found = await service.requests_to_decide(ctx=ctx, principal=principal)
        return [
            ChildRequestsRead(child_id=c.child_id, display_name=c.display_name, requests=list(c.requests))
            for c in found
        ]

    @api.post("/people", response_model=PersonRead, status_code=201, tags=["people"])
    async def create_person(body: PersonCreate, principal: PrincipalDep) -> PersonRead:
        """Add a family member, or (managers) a member of staff of my agency."""
        person = await service.create_person(ctx=ctx, principal=principal, **body.model_dump())
        return PersonRead.of(person)

    @api.get("/agencies", tags=["people"])
    async def list_agencies(principal: PrincipalDep) -> list[str]:
        """The agencies that take part."""
        return list(AGENCIES)

    # --- children ---

    @api.post("/children", response_model=RegistrationRead, status_code=201, tags=["children"])
    async def create_child(
        body: ChildCreate, principal: PrincipalDep, response: Response
    ) -> RegistrationRead:
        """Open a child's account (I become the lead professional); 409 with `child_id` if the child has one,
        202 with `match_id` if a manager must first confirm the child is not someone already known."""
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
                message="this may be a child who already has an account: a manager will confirm",
            )
        assert outcome.child is not None
        return RegistrationRead(status="created", child_id=outcome.child.child_id, message="account opened")

    @api.get("/children/search", response_model=list[ChildHeader], tags=["children"])
    async def search_children(
        principal: PrincipalDep,
        nhs_number: Annotated[str | None, Query(max_length=20)] = None,
        given_name: Annotated[str | None, Query(max_length=200)] = None,
        family_name: Annotated[str | None, Query(max_length=200)] = None,
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

    @api.get("/children/{child_id}", response_model=ChildHeader, tags=["children"])
    async def get_child(child_id: Id, principal: PrincipalDep) -> ChildHeader:
        """The child's header and team directory, as I may see them."""
        return await service.child_header(ctx=ctx, principal=principal, child_id=child_id)

    @api.put("/children/{child_id}/flags", response_model=ChangeRead, tags=["children"])
    async def update_flags(child_id: Id, body: FlagsUpdate, principal: PrincipalDep) -> ChangeRead:
        """Set the shielded and sensitive-service flags (lead professional or manager)."""
        child = await service.change_flags(
            ctx=ctx, principal=principal, child_id=child_id, **body.model_dump()
        )
        return ChangeRead(child_id=child.child_id, seq=child.seq)

    @api.get("/children/{child_id}/viewers", response_model=list[Viewer], tags=["audit"])
    async def list_viewers(child_id: Id, principal: PrincipalDep) -> list[Viewer]:
        """Who has viewed the child's record, most recent first."""
        return await service.viewers(ctx=ctx, principal=principal, child_id=child_id)

    # --- the team ---

    @api.post(
        "/children/{child_id}/join-requests", response_model=JoinRequest, status_code=201, tags=["team"]
    )
    async def create_join_request(child_id: Id, body: JoinAsk, principal: PrincipalDep) -> JoinRequest:
        """Ask to join the child's team, saying why."""
        return await service.request_join(ctx=ctx, principal=principal, child_id=child_id, reason=body.reason)

    @api.get("/children/{child_id}/join-requests", response_model=list[JoinRequest], tags=["team"])
    async def list_join_requests(child_id: Id, principal: PrincipalDep) -> list[JoinRequest]:
        """Requests waiting for a decision (lead professional or manager)."""
        return await service.join_requests(ctx=ctx, principal=principal, child_id=child_id)

    @api.post(
        "/children/{child_id}/join-requests/{request_id}/approve", response_model=ChangeRead, tags=["team"]
    )
    async def approve_join_request(
        child_id: Id, request_id: Id, body: DecisionReason, principal: PrincipalDep
    ) -> ChangeRead:
        """Let the practitioner into the team."""
        child = await service.approve_join(
            ctx=ctx, principal=principal, child_id=child_id, request_id=request_id, reason=body.reason
        )
        return ChangeRead(child_id=child.child_id, seq=child.seq)

    @api.post(
        "/children/{child_id}/join-requests/{request_id}/decline", response_model=ChangeRead, tags=["team"]
    )
    async def decline_join_request(
        child_id: Id, request_id: Id, body: RequiredReason, principal: PrincipalDep
    ) -> ChangeRead:
        """Refuse the request, saying why."""
        child = await service.decline_join(
            ctx=ctx, principal=principal, child_id=child_id, request_id=request_id, reason=body.reason
        )
        return ChangeRead(child_id=child.child_id, seq=child.seq)

    @api.post("/children/{child_id}/leave", status_code=204, tags=["team"])
    async def leave_team(child_id: Id, principal: PrincipalDep) -> Response:
        """Leave the child's team; my access ends at once."""
        await service.leave(ctx=ctx, principal=principal, child_id=child_id)
        return Response(status_code=204)

    @api.post("/children/{child_id}/members/{person_id}/remove", response_model=ChangeRead, tags=["team"])
    async def remove_member(
        child_id: Id, person_id: Id, body: RequiredReason, principal: PrincipalDep
    ) -> ChangeRead:
        """Take someone off the team, saying why."""
        child = await service.remove_member(
            ctx=ctx, principal=principal, child_id=child_id, person_id=person_id, reason=body.reason
        )
        return ChangeRead(child_id=child.child_id, seq=child.seq)

    @api.post("/children/{child_id}/lead", response_model=ChangeRead, tags=["team"])
    async def hand_over_lead(child_id: Id, body: LeadHandOver, principal: PrincipalDep) -> ChangeRead:
        """Make another team member the lead professional."""
        child = await service.hand_over_lead(
            ctx=ctx, principal=principal, child_id=child_id, person_id=body.person_id, reason=body.reason
        )
        return ChangeRead(child_id=child.child_id, seq=child.seq)

    @api.post("/children/{child_id}/family", response_model=ChangeRead, tags=["team"])
    async def link_family(child_id: Id, body: FamilyLinkCreate, principal: PrincipalDep) -> ChangeRead:
        """Link a parent, carer or the child themself: they see the family view."""
        child = await service.link_family(
            ctx=ctx,
            principal=principal,
            child_id=child_id,
            person_id=body.person_id,
            relationship=body.relationship,
        )
        return ChangeRead(child_id=child.child_id, seq=child.seq)

    @api.post("/children/{child_id}/family/{person_id}/unlink", response_model=ChangeRead, tags=["team"])
    async def unlink_family(
        child_id: Id, person_id: Id, body: RequiredReason, principal: PrincipalDep
    ) -> ChangeRead:
        """End a family member's access, saying why."""
        child = await service.unlink_family(
            ctx=ctx, principal=principal, child_id=child_id, person_id=person_id, reason=body.reason
        )
        return ChangeRead(child_id=child.child_id, seq=child.seq)

    @api.post(
        "/children/{child_id}/break-glass", response_model=BreakGlassRead, status_code=201, tags=["team"]
    )
    async def use_break_glass(child_id: Id, body: RequiredReason, principal: PrincipalDep) -> BreakGlassRead:
        """Emergency read access without membership: the reason is recorded and the lead is alerted."""
        child = await service.break_glass(ctx=ctx, principal=principal, child_id=child_id, reason=body.reason)
        grant = child.access.active_grant(principal.subject, datetime.now(UTC))
        assert grant is not None
        return BreakGlassRead(
            child_id=child.child_id,
            grant_id=grant.grant_id,
            expires_at=grant.expires_at,
            message="read-only access granted; the lead professional has been alerted",
        )

    # --- identity matches ---

    @api.get("/matches", response_model=list[MatchRead], tags=["children"])
    async def list_matches(principal: PrincipalDep) -> list[MatchRead]:
        """Registrations waiting for a manager to confirm they are not a child already known."""
        found = await service.open_matches(ctx=ctx, principal=principal)
        return [MatchRead.of(match, candidates) for match, candidates in found]

    @api.post("/matches/{match_id}/resolve", response_model=MatchRead, tags=["children"])
    async def resolve_match(match_id: Id, body: MatchResolve, principal: PrincipalDep) -> MatchRead:
        """The same child as `same_child_id` (no new account), or a new child (its account is opened)."""
        match = await service.resolve_match(
            ctx=ctx, principal=principal, match_id=match_id, same_child_id=body.same_child_id
        )
        return MatchRead.of(match, [])

    # --- audit ---

    @api.get("/audit", response_model=list[AuditEntry], tags=["audit"])
    async def query_audit(
        principal: PrincipalDep,
        child_id: Annotated[str | None, Query(max_length=100)] = None,
        actor_id: Annotated[str | None, Query(max_length=200)] = None,
        action: Annotated[str | None, Query(max_length=100)] = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> list[AuditEntry]:
        """The access log by child, person, time and action, newest first (auditors)."""
        return await service.audit_log(
            ctx=ctx,
            principal=principal,
            child_id=child_id,
            actor_id=actor_id,
            action=action,
            since=since,
            until=until,
            limit=limit,
        )

    return api
