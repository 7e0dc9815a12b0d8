"""Demo people and children for the local stack, written into a running accounts service's database.

Every demo user signs in with the one demo password. The children are opened and their teams formed through
accounts' own use cases, as a real user's are, so their account events (published by the service's outbox
relay) reach every service's access snapshot. Seeding again changes nothing.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from datetime import date

from prometheus_client import CollectorRegistry

from accounts.app import accounts_context
from accounts.children import service as children
from accounts.children.models import ChildDetails
from accounts.context import Accounts
from accounts.people.models import Person
from accounts.people.passwords import hash_password
from accounts.settings import AccountsSettings
from accounts.teams import service as teams
from shared import mongo
from shared.kafka.broker import make_broker
from shared.policy import FamilyRelationship, Principal


def _person(
    username: str,
    name: str,
    kind: str,
    agency: str | None = None,
    role: str | None = None,
    *,
    sensitive: bool = False,
) -> Person:
    contact = f"{username}@council.example" if kind in ("practitioner", "manager") else None
    return Person.model_validate(
        {
            "person_id": f"p-{username.replace('.', '-')}",
            "username": username,
            "name": name,
            "kind": kind,
            "agency": agency,
            "role": role,
            "contact": contact,
            "sensitive_service": sensitive,
        }
    )


PEOPLE: tuple[Person, ...] = (
    _person("sam.okafor", "Sam Okafor", "practitioner", "socialcare", "social worker"),
    _person("tess.morgan", "Tess Morgan", "practitioner", "school", "designated safeguarding lead"),
    _person("hana.begum", "Hana Begum", "practitioner", "health", "health visitor"),
    _person("pete.walsh", "Pete Walsh", "practitioner", "police", "police officer"),
    _person(
        "rae.lindqvist", "Rae Lindqvist", "practitioner", "health", "sexual health nurse", sensitive=True
    ),
    _person("mia.clarke", "Mia Clarke", "manager", "socialcare", "team manager"),
    _person("kerry.example", "Kerry Example", "family", role="parent"),
    _person("amy.example", "Amy Example", "family", role="child"),
    _person("dan.sample", "Dan Sample", "family", role="parent"),
    _person("ana.audit", "Ana Adeyemi", "auditor", role="information governance"),
    _person("school.mis", "Park Hill Academy MIS", "agency_system", "school"),
)
BY_USERNAME = {p.username: p for p in PEOPLE}
# Who each demo user is, for the web's sign-in page on the local stack (handed over as WEB_DEMO_USERS, so no
# service image carries demo data).
SIGN_IN_PAGE: tuple[tuple[str, str], ...] = (
    ("sam.okafor", "Social worker; lead professional for Amy, Ben and Cara"),
    ("tess.morgan", "Designated safeguarding lead at school; in Amy's team"),
    ("hana.begum", "Health visitor; in no team yet (try asking to join)"),
    ("pete.walsh", "Police officer; in Cara's team"),
    ("rae.lindqvist", "Sexual health nurse (a confidential service); in Amy's team"),
    ("mia.clarke", "Team manager, children's social care"),
    ("kerry.example", "Parent of Amy (family view)"),
    ("amy.example", "Amy herself (family view)"),
    ("dan.sample", "Parent of Ben, a shielded child (family view)"),
)


def sign_in_page_users() -> str:
    """The demo users the web's sign-in page lists, as the JSON its `WEB_DEMO_USERS` setting takes."""
    return json.dumps([{"username": u, "name": BY_USERNAME[u].name, "who": who} for u, who in SIGN_IN_PAGE])


# The children of the demo contact events (`devstack.demo`), so their chronologies show on their pages;
# a child's id is their NHS number.
AMY = "9434765919"
BEN = "4010232137"
CARA = "4857773457"
CHILDREN: dict[str, tuple[ChildDetails, bool]] = {
    AMY: (
        ChildDetails(
            nhs_number=AMY,
            given_name="Amy",
            family_name="Example",
            date_of_birth=date(2014, 5, 14),
            address="12 Elm Road, Leeds",
            postcode="LS6 2AB",
            school="Park Hill Academy",
            gp="Hyde Park Surgery",
        ),
        False,
    ),
    BEN: (
        ChildDetails(
            nhs_number=BEN,
            given_name="Ben",
            family_name="Sample",
            date_of_birth=date(2017, 9, 3),
            address="4 Refuge Close, Leeds",
            postcode="LS9 1ZZ",
            school="St Mary's Primary",
            gp="Burmantofts Health Centre",
        ),
        True,
    ),
    CARA: (
        ChildDetails(
            nhs_number=CARA,
            given_name="Cara",
            family_name="Demo",
            date_of_birth=date(2011, 1, 22),
            address="7 Mill Lane, Leeds",
            postcode="LS12 3CD",
            school="Armley High School",
            gp="Armley Medical Practice",
        ),
        False,
    ),
}
# child → members who joined (username, reason); family (username, relationship)
TEAMS: dict[str, list[tuple[str, str]]] = {
    AMY: [
        ("tess.morgan", "Amy's designated safeguarding lead at school"),
        ("rae.lindqvist", "providing confidential sexual health support"),
    ],
    BEN: [],
    CARA: [("pete.walsh", "missing-episode return interviews")],
}
FAMILY: dict[str, list[tuple[str, FamilyRelationship]]] = {
    AMY: [("kerry.example", "parent"), ("amy.example", "child")],
    BEN: [("dan.sample", "parent")],
    CARA: [],
}
SENSITIVE = {AMY}


def _principal(username: str) -> Principal:
    return BY_USERNAME[username].principal()


async def seed(ctx: Accounts, *, password: str) -> None:
    """Create the demo people and children if they are not there yet."""
    password_hash = await asyncio.to_thread(hash_password, password)
    await ctx.people.add_people([p.model_copy(update={"password_hash": password_hash}) for p in PEOPLE])
    lead = _principal("sam.okafor")
    for child_id, (details, shielded) in CHILDREN.items():
        child = await ctx.store.child(child_id)
        if child is None:
            await children.register_child(
                ctx=ctx,
                principal=lead,
                details=details,
                shielded=shielded,
                sensitive_service=child_id in SENSITIVE,
                child_id=child_id,
            )
            child = await ctx.store.child(child_id)
        assert child is not None
        for username, reason in TEAMS[child_id]:
            person = BY_USERNAME[username]
            if child.access.member(person.person_id):
                continue
            request = child.access.request_of(person.person_id) or await teams.request_join(
                ctx=ctx, principal=person.principal(), child_id=child_id, reason=reason
            )
            child = await teams.approve_join(
                ctx=ctx, principal=lead, child_id=child_id, request_id=request.request_id, reason=None
            )
        for username, relationship in FAMILY[child_id]:
            person = BY_USERNAME[username]
            if not child.access.family_link(person.person_id):
                child = await teams.link_family(
                    ctx=ctx,
                    principal=lead,
                    child_id=child_id,
                    person_id=person.person_id,
                    relationship=relationship,
                )


def settings_of(env: Mapping[str, str]) -> AccountsSettings:
    """The settings an accounts process started with the environment `env` runs with (its database, topics,
    broker): exactly its `ACCOUNTS_` variables, whatever this process's own environment holds."""
    prefix = AccountsSettings.model_config.get("env_prefix", "")
    values = {name[len(prefix) :].lower(): value for name, value in env.items() if name.startswith(prefix)}
    return AccountsSettings.model_validate(values)


async def seed_service(settings: AccountsSettings, *, password: str) -> str:
    """Seed the database of the running accounts service configured by `settings`; returns a summary line.

    The use cases run here, on that database, with a broker of this process for the audit trail; the service's
    outbox relay publishes the commits they write (within its `outbox_poll_s`), exactly as for its own."""
    broker = make_broker(settings.kafka_bootstrap, service="accounts-demo-seed", registry=CollectorRegistry())
    client = mongo.connect(settings.mongo_url, app_name="accounts-demo-seed")
    try:
        await broker.start()
        await seed(accounts_context(settings, db=client[settings.database], broker=broker), password=password)
    finally:
        await broker.stop()
        await client.close()
    return f"seeded {len(PEOPLE)} demo people and {len(CHILDREN)} demo children into accounts"
