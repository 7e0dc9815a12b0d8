"""The authorization matrix: every accounts endpoint by every role and relationship to the child (issue 4).

Accounts runs in-process (FastAPI through httpx's ASGI transport) against the real broker and the real
MongoDB-wire server; its decisions come from `shared.policy`, the module every other service imports. Each
person has a real token signed by accounts' own key. Relationships: lead, member, manager in the team, the
lead's line manager, another agency's manager, non-member, pending request, active break-glass, after leaving
the team, parent and the child themself (family of this child), family of another child, auditor, agency
system, and no token at all. Endpoints that change the account get a fresh child for every case.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from accounts import checks
from accounts.children import service as children
from accounts.children.models import ChildDetails
from accounts.identity import service as identity
from accounts.identity.models import ContactMatch
from accounts.people.models import Person
from accounts.teams import service as teams
from devstack.infra import Endpoints
from shared import policy
from shared.auth import SigningKey
from shared.contracts.contacts import CONTACT_RECORDED, Author, ChildIdentifiers, ContactRecorded
from shared.events import make_event
from testsupport.accounts import (
    PERSONAS,
    RunningAccounts,
    World,
    add_personas,
    build_world,
    new_child_details,
    running_accounts,
)

pytestmark = pytest.mark.integration

ANONYMOUS = "anonymous"
EVERYONE = [*PERSONAS, ANONYMOUS]
PRACTITIONERS = {
    "lead",
    "member",
    "manager_member",
    "line_manager",
    "other_manager",
    "non_member",
    "pending",
    "break_glass",
    "left",
}
MANAGERS = {"manager_member", "line_manager", "other_manager"}
SIGNED_IN = set(PERSONAS)
TEAM_MANAGERS = {"lead", "manager_member", "line_manager"}  # approve, decline, remove, hand over, link, flags
READERS = {"lead", "member", "manager_member", "line_manager", "break_glass", "parent", "the_child"}
VIEWERS_READERS = {"lead", "member", "manager_member", "line_manager", "parent", "the_child", "auditor"}
OUTSIDERS = {"line_manager", "other_manager", "non_member", "left"}  # may ask to join or break the glass

Request = tuple[str, dict[str, Any] | None]


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    route: str  # as FastAPI declares it, to check every route is in the matrix
    request: Callable[[World, dict[str, Person]], Request]
    allowed: frozenset[str]
    ok: int
    mutates: bool = False  # changes the child it is about: an allowed call gets a fresh child


def _e(
    name: str,
    method: str,
    route: str,
    request: Callable[[World, dict[str, Person]], Request],
    allowed: set[str],
    ok: int = 200,
    *,
    mutates: bool = False,
) -> Endpoint:
    return Endpoint(name, method, route, request, frozenset(allowed), ok, mutates)


ENDPOINTS: list[Endpoint] = [
    _e("me", "GET", "/me", lambda w, p: ("/me", None), SIGNED_IN),
    # These tokens belong to no sign-in session (issued directly), so signing out ends nothing here; what it
    # ends is shown in tests/test_tokens_e2e.py.
    _e("sign out", "POST", "/auth/sign-out", lambda w, p: ("/auth/sign-out", None), SIGNED_IN, 204),
    # Managers answer for family accounts, and for their own agency's staff (tests/test_tokens_e2e.py).
    _e(
        "disable an account",
        "POST",
        "/people/{person_id}/disable",
        lambda w, p: (f"/people/{w.family_account_id}/disable", {"reason": "moved away"}),
        MANAGERS,
        mutates=True,
    ),
    _e(
        "enable an account",
        "POST",
        "/people/{person_id}/enable",
        lambda w, p: (f"/people/{w.family_account_id}/enable", {"reason": "back in the area"}),
        MANAGERS,
        mutates=True,
    ),
    _e("my children", "GET", "/me/children", lambda w, p: ("/me/children", None), SIGNED_IN),
    _e("requests to decide", "GET", "/me/join-requests", lambda w, p: ("/me/join-requests", None), SIGNED_IN),
    _e("agencies", "GET", "/agencies", lambda w, p: ("/agencies", None), SIGNED_IN),
    _e(
        "search by NHS number",
        "GET",
        "/children/search",
        lambda w, p: (f"/children/search?nhs_number={w.child_id}", None),
        PRACTITIONERS,
    ),
    _e(
        "child header", "GET", "/children/{child_id}", lambda w, p: (f"/children/{w.child_id}", None), READERS
    ),
    _e(
        "who viewed",
        "GET",
        "/children/{child_id}/viewers",
        lambda w, p: (f"/children/{w.child_id}/viewers", None),
        VIEWERS_READERS,
    ),
    # The header and the viewers in one read; its viewers part is checked below.
    _e(
        "child overview",
        "GET",
        "/children/{child_id}/overview",
        lambda w, p: (f"/children/{w.child_id}/overview", None),
        READERS,
    ),
    _e(
        "list join requests",
        "GET",
        "/children/{child_id}/join-requests",
        lambda w, p: (f"/children/{w.child_id}/join-requests", None),
        TEAM_MANAGERS,
    ),
    _e("audit log", "GET", "/audit", lambda w, p: (f"/audit?child_id={w.child_id}", None), {"auditor"}),
    # Every manager may ask; each sees only what they answer for (tested in accounts' access-rule tests).
    _e("open matches", "GET", "/matches", lambda w, p: ("/matches", None), MANAGERS),
    _e("waiting contacts", "GET", "/contact-matches", lambda w, p: ("/contact-matches", None), MANAGERS),
    _e(
        "open an account",
        "POST",
        "/children",
        lambda w, p: ("/children", new_child_details().model_dump(mode="json")),
        PRACTITIONERS,
        201,
    ),
    _e(
        "add a family member",
        "POST",
        "/people",
        lambda w, p: (
            "/people",
            {"username": f"fam.{uuid.uuid4().hex[:8]}", "name": "A Carer", "kind": "family"},
        ),
        PRACTITIONERS,
        201,
    ),
    _e(
        "ask to join",
        "POST",
        "/children/{child_id}/join-requests",
        lambda w, p: (f"/children/{w.child_id}/join-requests", {"reason": "new concerns at school"}),
        OUTSIDERS | {"break_glass"},
        201,
        mutates=True,
    ),
    _e(
        "approve a request",
        "POST",
        "/children/{child_id}/join-requests/{request_id}/approve",
        lambda w, p: (f"/children/{w.child_id}/join-requests/{w.pending_request_id}/approve", {}),
        TEAM_MANAGERS,
        mutates=True,
    ),
    _e(
        "decline a request",
        "POST",
        "/children/{child_id}/join-requests/{request_id}/decline",
        lambda w, p: (
            f"/children/{w.child_id}/join-requests/{w.pending_request_id}/decline",
            {"reason": "no role with this child"},
        ),
        TEAM_MANAGERS,
        mutates=True,
    ),
    _e(
        "leave the team",
        "POST",
        "/children/{child_id}/leave",
        lambda w, p: (f"/children/{w.child_id}/leave", None),
        {"member", "manager_member"},
        204,
        mutates=True,
    ),
    _e(
        "remove a member",
        "POST",
        "/children/{child_id}/members/{person_id}/remove",
        lambda w, p: (
            f"/children/{w.child_id}/members/{p['spare_member'].person_id}/remove",
            {"reason": "no longer involved"},
        ),
        TEAM_MANAGERS,
        mutates=True,
    ),
    _e(
        "hand over the lead",
        "POST",
        "/children/{child_id}/lead",
        lambda w, p: (f"/children/{w.child_id}/lead", {"person_id": p["spare_member"].person_id}),
        TEAM_MANAGERS,
        mutates=True,
    ),
    _e(
        "link family",
        "POST",
        "/children/{child_id}/family",
        lambda w, p: (
            f"/children/{w.child_id}/family",
            {"person_id": p["spare_family"].person_id, "relationship": "carer"},
        ),
        TEAM_MANAGERS,
        mutates=True,
    ),
    _e(
        "unlink family",
        "POST",
        "/children/{child_id}/family/{person_id}/unlink",
        lambda w, p: (
            f"/children/{w.child_id}/family/{p['parent'].person_id}/unlink",
            {"reason": "court order: no parental contact"},
        ),
        TEAM_MANAGERS,
        mutates=True,
    ),
    _e(
        "break the glass",
        "POST",
        "/children/{child_id}/break-glass",
        lambda w, p: (
            f"/children/{w.child_id}/break-glass",
            {"purpose": "emergency_medical_treatment", "reason": "unconscious at A&E, need history"},
        ),
        OUTSIDERS | {"pending"},
        201,
        mutates=True,
    ),
    _e(
        "set flags",
        "PUT",
        "/children/{child_id}/flags",
        lambda w, p: (
            f"/children/{w.child_id}/flags",
            {"shielded": True, "sensitive_service": False, "reason": "moved to a refuge"},
        ),
        TEAM_MANAGERS,
        mutates=True,
    ),
]
# Resolving a match or a contact needs one of its own; they are tested below with the same personas.
RESOLVE_ROUTES = {("POST", "/matches/{match_id}/resolve"), ("POST", "/contact-matches/{match_id}/resolve")}
PUBLIC_ROUTES = {
    ("POST", "/auth/token"),
    ("POST", "/auth/refresh"),  # a refresh token is its own credential (tests/test_tokens_e2e.py)
    ("GET", "/.well-known/jwks.json"),
    ("GET", "/.well-known/openid-configuration"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("GET", "/asyncapi.json"),
}


@dataclass
class Setup:
    accounts: RunningAccounts
    people: dict[str, Person]
    world: World  # shared by the endpoints that change nothing


@pytest.fixture(scope="module")
async def setup(infra: Endpoints) -> AsyncIterator[Setup]:
    async with running_accounts(
        kafka_bootstrap=infra.kafka_bootstrap,
        kafka_admin=infra.kafka_admin,
        kafka_credentials=infra.kafka_user("accounts"),
        mongo_url=infra.mongo_url,
    ) as accounts:
        people = await add_personas(accounts)
        world = await build_world(accounts.ctx, people)
        yield Setup(accounts, people, world)


async def _call(setup: Setup, endpoint: Endpoint, persona: str, world: World) -> int:
    path, body = endpoint.request(world, setup.people)
    headers = {} if persona == ANONYMOUS else setup.accounts.headers(setup.people[persona])
    response = await setup.accounts.client.request(endpoint.method, path, json=body, headers=headers)
    return response.status_code


def _expected(endpoint: Endpoint, persona: str) -> int:
    if persona == ANONYMOUS:
        return 401
    return endpoint.ok if persona in endpoint.allowed else 403


@pytest.mark.parametrize("persona", EVERYONE)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
async def test_every_endpoint_by_every_role_and_relationship(
    setup: Setup, endpoint: Endpoint, persona: str
) -> None:
    # A change that is allowed gets a child of its own; a refused one must leave the shared child untouched
    # (if it did not, the other cases would show it).
    fresh = endpoint.mutates and persona in endpoint.allowed
    world = await build_world(setup.accounts.ctx, setup.people) if fresh else setup.world
    assert await _call(setup, endpoint, persona, world) == _expected(endpoint, persona)


@pytest.mark.parametrize("persona", EVERYONE)
async def test_resolving_an_uncertain_match_is_for_the_manager_responsible_for_its_candidate(
    setup: Setup, persona: str
) -> None:
    ctx = setup.accounts.ctx
    lead = setup.people["lead"].principal()
    known = new_child_details(nhs_number="")
    known = known.model_copy(update={"nhs_number": None})
    await children.register_child(
        ctx=ctx, principal=lead, details=known, shielded=False, sensitive_service=False
    )
    maybe = await children.register_child(
        ctx=ctx,
        principal=lead,
        details=new_child_details(**known.model_dump(exclude={"nhs_number"})),
        shielded=False,
        sensitive_service=False,
    )
    assert maybe.match is not None
    headers = {} if persona == ANONYMOUS else setup.accounts.headers(setup.people[persona])
    response = await setup.accounts.client.post(
        f"/matches/{maybe.match.match_id}/resolve", json={"same_child_id": None}, headers=headers
    )
    # The candidate is a new child of the lead's: only the lead's line manager answers for it.
    expected = 401 if persona == ANONYMOUS else 200 if persona == "line_manager" else 403
    assert response.status_code == expected, response.text


@pytest.mark.parametrize("persona", EVERYONE)
async def test_resolving_a_waiting_contact_is_for_the_manager_responsible_for_its_candidate(
    setup: Setup, persona: str
) -> None:
    ctx = setup.accounts.ctx
    known = new_child_details().model_copy(update={"nhs_number": None})
    opened = await children.register_child(
        ctx=ctx,
        principal=setup.people["lead"].principal(),
        details=known,
        shielded=False,
        sensitive_service=False,
    )
    assert opened.child is not None
    contact_id = f"contact-{uuid.uuid4().hex}"
    waiting = (_waiting_contact(contact_id, opened.child.child_id), _contact_json(contact_id, known))
    await ctx.contacts.hold([waiting])
    headers = {} if persona == ANONYMOUS else setup.accounts.headers(setup.people[persona])
    response = await setup.accounts.client.post(
        f"/contact-matches/{contact_id}/resolve", json={"child_id": opened.child.child_id}, headers=headers
    )
    expected = 401 if persona == ANONYMOUS else 200 if persona == "line_manager" else 403
    assert response.status_code == expected, response.text


def _waiting_contact(contact_id: str, child_id: str) -> ContactMatch:
    now = datetime.now(UTC)
    return ContactMatch(
        id=contact_id,
        status="waiting",
        agency="health",
        given_name="Test",
        family_name="Child",
        date_of_birth="2015-01-01",
        postcode="LS1 1XY",
        occurred_at=now,
        candidates=[child_id],
        received_at=now,
    )


def _contact_json(contact_id: str, details: ChildDetails) -> str:
    data = ContactRecorded(
        agency="health",
        author=Author(name="A Nurse", role="school nurse"),
        child=ChildIdentifiers(
            given_name=details.given_name,
            family_name=details.family_name,
            date_of_birth=details.date_of_birth,
            postcode=details.postcode,
        ),
        occurred_at=datetime.now(UTC),
        contact_type="health_appointment",
        summary="Missed appointment",
        impact="negative",
    )
    event = make_event(type=CONTACT_RECORDED, source="health", subject="-", data=data, event_id=contact_id)
    return event.model_dump_json()


def test_the_matrix_covers_every_route_of_the_service(setup: Setup) -> None:
    # The OpenAPI document lists every route however the routers are included (FastAPI 0.165 wraps them, so
    # `app.routes` no longer shows them); the routes it hides are the public ones.
    routes = {
        (method.upper(), path)
        for path, operations in setup.accounts.app.openapi()["paths"].items()
        for method in operations
    }
    assert ("GET", "/children/{child_id}") in routes
    covered = {(e.method, e.route) for e in ENDPOINTS} | RESOLVE_ROUTES | PUBLIC_ROUTES
    assert routes - covered == set(), "add these routes to the authorization matrix"


def test_the_matrix_runs_against_the_policy_every_service_imports() -> None:
    for module in (checks, children, teams, identity):
        assert vars(module)["decide"] is policy.decide
    assert vars(children)["search_view"] is policy.search_view


# --- what comes back, not only whether ---------------------------------------------------------------------


async def _json(setup: Setup, persona: str, path: str) -> Any:
    response = await setup.accounts.client.get(path, headers=setup.accounts.headers(setup.people[persona]))
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize(
    ("persona", "view"),
    [
        ("lead", "full"),
        ("member", "full"),
        ("break_glass", "full"),
        ("non_member", "identity_only"),
        ("pending", "identity_only"),
        ("left", "identity_only"),
        ("other_manager", "identity_only"),
    ],
)
async def test_search_returns_only_what_the_searcher_may_see(setup: Setup, persona: str, view: str) -> None:
    [found] = await _json(setup, persona, f"/children/search?nhs_number={setup.world.child_id}")
    assert found["view"] == view
    if view == "identity_only":
        assert found["address"] is None and found["team"] == [] and found["nhs_number"] is None


@pytest.mark.parametrize("persona", sorted(PERSONAS))
async def test_my_children_lists_exactly_the_childs_team_and_family(setup: Setup, persona: str) -> None:
    if persona == "agency_system":
        return  # signed in, but no child is ever theirs: covered by the matrix
    mine = {c["child_id"] for c in await _json(setup, persona, "/me/children")}
    expected = persona in {"lead", "member", "manager_member", "parent", "the_child"}
    assert (setup.world.child_id in mine) == expected


@pytest.mark.parametrize("persona", sorted(TEAM_MANAGERS | {"member", "non_member"}))
async def test_the_requests_to_decide_are_the_lead_and_managers(setup: Setup, persona: str) -> None:
    children = {c["child_id"] for c in await _json(setup, persona, "/me/join-requests")}
    assert (setup.world.child_id in children) == (persona in TEAM_MANAGERS)


async def test_family_see_the_family_view_and_the_team_sees_the_full_one(setup: Setup) -> None:
    family = await _json(setup, "parent", f"/children/{setup.world.child_id}")
    lead = await _json(setup, "lead", f"/children/{setup.world.child_id}")
    assert family["view"] == "family" and lead["view"] == "full"
    assert [f["person_id"] for f in family["family"]] == [setup.people["parent"].person_id]
    assert len(lead["family"]) == 2
    assert family["pending_requests"] is None and lead["pending_requests"] == 1


@pytest.mark.parametrize("persona", sorted(READERS))
async def test_the_overview_shows_the_viewers_only_to_those_who_may_read_them(
    setup: Setup, persona: str
) -> None:
    path = f"/children/{setup.world.child_id}"
    overview = await _json(setup, persona, f"{path}/overview")
    assert overview["header"] == await _json(setup, persona, path)
    if persona in VIEWERS_READERS:
        assert overview["viewers"] == await _json(setup, persona, f"{path}/viewers")
        assert overview["viewers_refused"] is None
    else:
        assert overview["viewers"] is None and overview["viewers_refused"]


async def test_every_refusal_is_recorded_with_its_reason(setup: Setup) -> None:
    sink = setup.accounts.audit
    assert sink is not None
    before = len(sink.events)
    header = next(e for e in ENDPOINTS if e.name == "child header")
    status = await _call(setup, header, "other_family", setup.world)
    assert status == 403
    [record] = [e.data for e in sink.events[before:]]
    assert record.actor_id == setup.people["other_family"].person_id
    assert record.child_id == setup.world.child_id and not record.allowed
    assert "not linked to this child" in record.reason


# --- every token attack, on every endpoint -----------------------------------------------------------------


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _attacks(setup: Setup) -> dict[str, str]:
    keys = setup.accounts.keys
    issuer = keys.issuer
    person = setup.people["lead"]
    key = issuer.signing_key
    now = datetime.now(UTC)
    claims = {
        "iss": issuer.issuer,
        "aud": issuer.audience,
        "sub": person.person_id,
        "name": person.name,
        "kind": "practitioner",
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=5)).timestamp()),
    }
    forger = SigningKey.generate()
    public_pem = (
        serialization.load_pem_private_key(key.private_pem.encode(), None)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    hs_header = _b64(json.dumps({"alg": "HS256", "kid": key.kid}).encode())
    payload = _b64(json.dumps(claims).encode())
    hs_signature = _b64(hmac.new(public_pem, f"{hs_header}.{payload}".encode(), hashlib.sha256).digest())
    none_header = _b64(json.dumps({"alg": "none", "kid": key.kid}).encode())

    def signed(**changes: Any) -> str:
        return jwt.encode(
            {**claims, **changes}, key.private_pem, algorithm=key.algorithm, headers={"kid": key.kid}
        )

    return {
        "alg none": f"{none_header}.{payload}.",
        "hs256 with the public key": f"{hs_header}.{payload}.{hs_signature}",
        "forged signature": jwt.encode(
            claims, forger.private_pem, algorithm="ES256", headers={"kid": key.kid}
        ),
        "expired": signed(
            iat=int((now - timedelta(hours=2)).timestamp()), exp=int((now - timedelta(hours=1)).timestamp())
        ),
        "wrong issuer": signed(iss="https://idp.elsewhere.example"),
        "wrong audience": signed(aud="another-system"),
        "no expiry": jwt.encode(
            {k: v for k, v in claims.items() if k != "exp"},
            key.private_pem,
            algorithm=key.algorithm,
            headers={"kid": key.kid},
        ),
    }


ATTACKS = [
    "alg none",
    "hs256 with the public key",
    "forged signature",
    "expired",
    "wrong issuer",
    "wrong audience",
    "no expiry",
]


@pytest.mark.parametrize("attack", ATTACKS)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
async def test_every_endpoint_rejects_every_token_attack(
    setup: Setup, endpoint: Endpoint, attack: str
) -> None:
    token = _attacks(setup)[attack]
    path, body = endpoint.request(setup.world, setup.people)
    response = await setup.accounts.client.request(
        endpoint.method, path, json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 401, (attack, response.text)


async def test_a_good_token_passes_where_the_attacks_fail(setup: Setup) -> None:
    # The control: the same claims, properly signed, are accepted.
    assert await _call(setup, ENDPOINTS[0], "lead", setup.world) == 200
