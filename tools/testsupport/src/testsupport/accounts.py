"""Accounts for tests: the real app run in-process against the real broker and MongoDB-wire server, people made
directly in its store, tokens signed by its own key, a child's team set up in every relationship, and the demo
people and children seeded the way `./dev up` seeds them (`devstack.demo_accounts`)."""

from __future__ import annotations

import asyncio
import random
import string
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx
from fastapi import FastAPI

from accounts.app import create_app
from accounts.children import service as children
from accounts.children.models import ChildDetails
from accounts.context import Accounts
from accounts.people.keys import SigningKeys
from accounts.people.models import Person
from accounts.settings import AccountsSettings
from accounts.teams import service as teams
from devstack import demo_accounts
from shared import mongo
from shared.audit import AuditSink, MemoryAuditSink
from shared.identity import with_check_digit
from shared.kafka.auth import KafkaCredentials
from shared.policy import Principal, PrincipalKind
from shared.topics import ensure_topics
from testsupport.services import IsolatedRun, ServiceProcess


def new_nhs_number() -> str:
    while True:
        number = with_check_digit(f"{random.randrange(10**8, 10**9)}")
        if number:
            return number


def new_child_details(nhs_number: str | None = None, **overrides: Any) -> ChildDetails:
    values: dict[str, Any] = {
        "nhs_number": nhs_number if nhs_number is not None else new_nhs_number(),
        "given_name": "Test",
        # Random letters, so that two test children never look alike to the matcher (it compares letters
        # only, and a shared "Child" prefix made names "close" and a registration a pending match).
        "family_name": "".join(random.choices(string.ascii_lowercase, k=12)).capitalize(),
        "date_of_birth": date(2010 + random.randrange(12), random.randrange(1, 13), random.randrange(1, 29)),
        "address": "1 Test Street, Leeds",
        "postcode": f"LS{random.randrange(1, 30)} {random.randrange(1, 10)}XY",
        "school": "Test Academy",
        "gp": "Test Surgery",
        **overrides,
    }
    return ChildDetails.model_validate(values)


@dataclass
class RunningAccounts:
    app: FastAPI
    client: httpx.AsyncClient
    audit: MemoryAuditSink | None
    database: str
    people: dict[str, Person] = field(default_factory=dict)

    @property
    def ctx(self) -> Accounts:
        ctx: Accounts = self.app.state.accounts
        return ctx

    @property
    def settings(self) -> AccountsSettings:
        settings: AccountsSettings = self.app.state.runtime.settings
        return settings

    @property
    def keys(self) -> SigningKeys:
        keys: SigningKeys = self.app.state.signing_keys
        return keys

    async def add_person(
        self, name: str, kind: PrincipalKind, agency: str | None = None, role: str | None = None, **extra: Any
    ) -> Person:
        person = Person.model_validate(
            {
                "person_id": f"p-{name}-{uuid.uuid4().hex[:8]}",
                "username": f"{name}.{uuid.uuid4().hex[:8]}",
                "name": name.replace("_", " ").title(),
                "kind": kind,
                "agency": agency,
                "role": role,
                "contact": f"{name}@council.example",
                **extra,
            }
        )
        await self.ctx.people.add_people([person])
        self.people[name] = person
        return person

    def headers(self, who: Person | Principal) -> dict[str, str]:
        principal = who.principal() if isinstance(who, Person) else who
        return {"Authorization": f"Bearer {self.keys.issuer.issue(principal).access_token}"}


@asynccontextmanager
async def running_accounts(
    *,
    kafka_bootstrap: str,
    kafka_admin: KafkaCredentials,
    kafka_credentials: KafkaCredentials,
    mongo_url: str,
    database: str | None = None,
    memory_audit: bool = True,
    audit_sink: AuditSink | None = None,
    keep_database: bool = False,
    demo_password: str | None = None,
    **settings: Any,
) -> AsyncIterator[RunningAccounts]:
    """Accounts started (Mongo, broker, consumers, outbox relay) with a fresh database, dropped afterwards
    (unless `keep_database`). `memory_audit` keeps audit events in memory instead of publishing them;
    `demo_password` seeds the demo people and children once it is started, with that password. Topics are
    created as `kafka_admin`; accounts signs in to the broker with `kafka_credentials`."""
    await ensure_topics(kafka_bootstrap, credentials=kafka_admin)
    database = database or f"test_{uuid.uuid4().hex}"
    config = AccountsSettings(
        kafka_bootstrap=kafka_bootstrap,
        kafka_user=kafka_credentials.user,
        kafka_password=kafka_credentials.password,
        mongo_url=mongo_url,
        mongo_db=database,
        consumer_group_suffix=f"-test-{uuid.uuid4().hex[:8]}",
        **settings,
    )
    sink = MemoryAuditSink() if memory_audit and audit_sink is None else None
    app = create_app(config, audit_sink=audit_sink or sink)
    try:
        async with app.router.lifespan_context(app):
            if demo_password is not None:
                await demo_accounts.seed_service(config, password=demo_password)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://accounts") as client:
                yield RunningAccounts(app=app, client=client, audit=sink, database=database)
    finally:
        if not keep_database:
            mongo_client = mongo.connect(mongo_url, app_name="accounts-tests")
            await mongo_client.drop_database(database)
            await mongo_client.close()


_TOKENS: dict[tuple[str, str], tuple[float, str]] = {}


def signed_in_token(accounts_url: str, username: str, password: str) -> str:
    """An access token of `username` from a running accounts' `/auth/token`, signed in again only when the last
    one is within a minute of its end: sign-in is limited per user name and per client, and tests poll."""
    kept = _TOKENS.get((accounts_url, username))
    if kept is not None and kept[0] > time.monotonic():
        return kept[1]
    response = httpx.post(
        f"{accounts_url}/auth/token", json={"username": username, "password": password}, timeout=10
    )
    response.raise_for_status()
    body = response.json()
    token = str(body["access_token"])
    _TOKENS[(accounts_url, username)] = (time.monotonic() + float(body["expires_in"]) - 60, token)
    return token


def seed_demo(accounts: ServiceProcess, *, password: str) -> None:
    """Seed the demo people and children into a started accounts process's database, as `./dev up` does."""
    asyncio.run(demo_accounts.seed_service(demo_accounts.settings_of(accounts.env), password=password))


@contextmanager
def demo_services(
    run: IsolatedRun, names: tuple[str, ...], *, password: str, ready_within: float = 60.0
) -> Iterator[dict[str, ServiceProcess]]:
    """Accounts with the demo people and children, then the services `names` trusting its keys, as processes
    of `run`; every one stopped afterwards, the last started first."""
    with ExitStack() as stack:

        def start(svc: ServiceProcess) -> ServiceProcess:
            svc.start(ready_within=ready_within)
            stack.callback(svc.stop)
            return svc

        accounts = start(run.service("accounts"))
        seed_demo(accounts, password=password)
        jwks = f"{accounts.url}/.well-known/jwks.json"
        yield {"accounts": accounts} | {n: start(run.service(n, AUTH_JWKS_URL=jwks)) for n in names}


# Every relationship a person can have with a child (issue 4, "Done when").
PERSONAS: dict[str, tuple[PrincipalKind, str | None, str | None]] = {
    "lead": ("practitioner", "socialcare", "social worker"),
    "member": ("practitioner", "school", "teacher"),
    "manager_member": ("manager", "health", "team manager"),
    "line_manager": ("manager", "socialcare", "team manager"),
    "other_manager": ("manager", "police", "inspector"),
    "non_member": ("practitioner", "police", "police officer"),
    "pending": ("practitioner", "housing", "housing officer"),
    "break_glass": ("practitioner", "health", "emergency doctor"),
    "left": ("practitioner", "voluntary", "youth worker"),
    "parent": ("family", None, "parent"),
    "the_child": ("family", None, "child"),
    "other_family": ("family", None, "parent"),
    "auditor": ("auditor", None, "information governance"),
    "agency_system": ("agency_system", "school", None),
}


async def add_personas(accounts: RunningAccounts) -> dict[str, Person]:
    for name, (kind, agency, role) in PERSONAS.items():
        await accounts.add_person(name, kind, agency, role)
    await accounts.add_person("spare_family", "family", None, "carer")
    await accounts.add_person("spare_member", "practitioner", "school", "teaching assistant")
    return accounts.people


@dataclass(frozen=True)
class World:
    """One child with a person in every relationship, and another child with their own family."""

    child_id: str
    other_child_id: str
    pending_request_id: str
    # A family account of its own, for the endpoints that disable or enable an account.
    family_account_id: str = ""


async def build_world(ctx: Accounts, people: dict[str, Person]) -> World:
    """Set up a child's team through the same use cases HTTP calls (no audit events for allowed changes)."""
    lead = people["lead"].principal()

    async def register(principal: Principal) -> str:
        outcome = await children.register_child(
            ctx=ctx, principal=principal, details=new_child_details(), shielded=False, sensitive_service=False
        )
        assert outcome.child is not None, outcome
        return outcome.child.child_id

    child_id = await register(lead)
    for name in ("member", "manager_member", "left", "spare_member"):
        request = await teams.request_join(
            ctx=ctx, principal=people[name].principal(), child_id=child_id, reason="working with the child"
        )
        await teams.approve_join(
            ctx=ctx, principal=lead, child_id=child_id, request_id=request.request_id, reason=None
        )
    await teams.leave(ctx=ctx, principal=people["left"].principal(), child_id=child_id)
    pending = await teams.request_join(
        ctx=ctx, principal=people["pending"].principal(), child_id=child_id, reason="rehousing the family"
    )
    await teams.break_glass(
        ctx=ctx,
        principal=people["break_glass"].principal(),
        child_id=child_id,
        purpose="emergency_medical_treatment",
        reason="A&E: injuries, need history",
    )
    for name, relationship in (("parent", "parent"), ("the_child", "child")):
        await teams.link_family(
            ctx=ctx,
            principal=lead,
            child_id=child_id,
            person_id=people[name].person_id,
            relationship=relationship,  # type: ignore[arg-type]
        )
    other_child_id = await register(lead)
    await teams.link_family(
        ctx=ctx,
        principal=lead,
        child_id=other_child_id,
        person_id=people["other_family"].person_id,
        relationship="parent",
    )
    account = Person(
        person_id=f"p-account-{uuid.uuid4().hex[:8]}",
        username=f"account.{uuid.uuid4().hex[:8]}",
        name="A Carer",
        kind="family",
        role="carer",
    )
    await ctx.people.insert_person(account)
    return World(
        child_id=child_id,
        other_child_id=other_child_id,
        pending_request_id=pending.request_id,
        family_account_id=account.person_id,
    )
