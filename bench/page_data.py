"""The page benchmark's dataset: children opened through accounts' API, their teams, families and audit history,
then their chronologies published as agency contact events (bench.produce) into chronology and analytics.

People sign in with tokens minted with the run's own key (accounts signs with it too, and every service
trusts only it). A practitioner from a council's identity provider needs no person record in accounts; a
parent does (a family link names a person), so parents are created through the API.
"""

from __future__ import annotations

import asyncio
import functools
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx

from bench.produce import children as nhs_numbers
from shared.policy import Principal
from testsupport.identities import Identities

CHILDREN_PER_PRACTITIONER = 25
AUDIT_VIEWS = 3  # earlier views of each record, so the viewers list has a history to read
CONCURRENCY = 16
FORUM_THREADS = (
    ("practitioners", "Worries about school attendance"),
    ("family", "What is working well at home"),
)


@dataclass
class Dataset:
    """Who may see which child: the child ids as accounts knows them, and a lead, member and parent each."""

    identities: Identities
    nhs: list[str] = field(default_factory=list)
    child_ids: list[str] = field(default_factory=list)
    leads: dict[str, Principal] = field(default_factory=dict)
    members: dict[str, Principal] = field(default_factory=dict)
    parents: dict[str, Principal] = field(default_factory=dict)

    def token(self, who: Principal) -> str:
        return self.identities.issuer.issue(who).access_token

    def page_targets(self, sample: int, seed: int = 11) -> list[tuple[str, Principal]]:
        """(page path, viewer) for `sample` children: their lead, a team member and a parent, shuffled."""
        rng = random.Random(seed)
        chosen = rng.sample(self.child_ids, min(sample, len(self.child_ids)))
        out = [(f"/children/{c}", who[c]) for c in chosen for who in (self.leads, self.members, self.parents)]
        rng.shuffle(out)
        return out


def _practitioner(n: int, agency: str, role: str, run: str) -> Principal:
    return Principal(
        subject=f"bench-{run}-{agency}-{n}",
        name=f"Bench {role} {n}",
        kind="practitioner",
        agency=agency,
        role=role,
    )


def _name(i: int) -> str:
    """A distinct given name per child (letters only), so no registration looks like a possible duplicate."""
    letters = ""
    i += 26 * 26
    while i:
        i, r = divmod(i, 26)
        letters = chr(ord("a") + r) + letters
    return letters.capitalize()


class _Api:
    def __init__(self, http: httpx.AsyncClient, data: Dataset) -> None:
        self.http = http
        self.data = data

    async def call(self, method: str, path: str, who: Principal, body: dict[str, Any] | None = None) -> Any:
        headers = {"Authorization": f"Bearer {self.data.token(who)}"}
        for attempt in range(8):
            response = await self.http.request(method, path, json=body, headers=headers)
            if response.status_code == 409 and attempt and "child_id" in response.text:
                # An earlier attempt opened the account before it answered 503: that is the child.
                return {"child_id": response.json()["child_id"]}
            if response.status_code < 500:
                break
            # Accounts (or its database) refused quickly, as it should when busy: the load is ours, back off
            # (about 40 s in all; a 5,000-children load once ran out of five shorter tries).
            await asyncio.sleep(min(8.0, 0.5 * 2**attempt))
        if response.status_code >= 300:
            raise RuntimeError(
                f"{method} {path} as {who.subject}: {response.status_code} {response.text[:300]}"
            )
        return response.json() if response.content else None


async def _open_child(api: _Api, i: int, nhs: str, run: str) -> None:
    data = api.data
    lead = _practitioner(i // CHILDREN_PER_PRACTITIONER, "socialcare", "social worker", run)
    member = _practitioner(i // CHILDREN_PER_PRACTITIONER, "health", "health visitor", run)
    opened = await api.call(
        "POST",
        "/children",
        lead,
        {
            "nhs_number": nhs,
            "given_name": _name(i),
            "family_name": "Bench",
            "date_of_birth": date(2010 + i % 12, 1 + i % 12, 1 + i % 28).isoformat(),
            "postcode": "LS1 1AA",
        },
    )
    child = opened["child_id"]
    asked = await api.call(
        "POST", f"/children/{child}/join-requests", member, {"reason": "health visiting the family"}
    )
    await api.call("POST", f"/children/{child}/join-requests/{asked['request_id']}/approve", lead, {})
    # The member makes the parent's account and the lead links it: nobody links an account they made.
    person = await api.call(
        "POST",
        "/people",
        member,
        {
            "username": f"bench-{run}-parent-{i}",
            "name": f"Parent of {_name(i)}",
            "kind": "family",
            "role": "parent",
        },
    )
    await api.call(
        "POST",
        f"/children/{child}/family",
        lead,
        {"person_id": person["person_id"], "relationship": "parent"},
    )
    parent = Principal(subject=person["person_id"], name=person["name"], kind="family", role="parent")
    for n in range(AUDIT_VIEWS):
        await api.call("GET", f"/children/{child}", (lead, member, parent)[n % 3])
    data.child_ids.append(child)
    data.leads[child], data.members[child], data.parents[child] = lead, member, parent


async def _bounded(jobs: Sequence[Callable[[], Awaitable[None]]], limit: int) -> None:
    gate = asyncio.Semaphore(limit)

    async def one(job: Callable[[], Awaitable[None]]) -> None:
        async with gate:
            await job()

    await asyncio.gather(*(one(j) for j in jobs))


async def open_accounts(accounts_url: str, data: Dataset, *, children: int, first: int, run: str) -> float:
    """Open `children` accounts with a lead, a member, a parent and a few audited views each; returns seconds."""
    data.nhs = nhs_numbers(children, first)
    t0 = time.perf_counter()
    async with httpx.AsyncClient(base_url=accounts_url, timeout=60) as http:
        api = _Api(http, data)
        jobs = [functools.partial(_open_child, api, i, nhs, run) for i, nhs in enumerate(data.nhs)]
        await _bounded(jobs, CONCURRENCY)
    return time.perf_counter() - t0


async def wait_until_known(
    chronology_url: str, analytics_url: str, data: Dataset, *, within: float = 300, forum_url: str = ""
) -> None:
    """Until chronology, analytics (and the forum) know the last children's teams (account events relayed and
    consumed)."""
    probes = data.child_ids[-3:]
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(timeout=10) as http:
        while time.monotonic() < deadline:
            codes = []
            for child in probes:
                headers = {"Authorization": f"Bearer {data.token(data.leads[child])}"}
                codes.append(
                    (
                        await http.get(
                            f"{chronology_url}/children/{child}/chronology?limit=1", headers=headers
                        )
                    ).status_code
                )
                codes.append(
                    (
                        await http.get(f"{analytics_url}/children/{child}/contact-graph", headers=headers)
                    ).status_code
                )
                if forum_url:
                    forum = await http.get(f"{forum_url}/children/{child}/forum", headers=headers)
                    codes.append(forum.status_code)
            if all(c == 200 for c in codes):
                return
            await asyncio.sleep(0.5)
    raise TimeoutError(f"chronology and analytics did not learn the children's teams within {within:.0f}s")


async def _seed_forum(api: _Api, child: str) -> None:
    lead = api.data.leads[child]
    for audience, title in FORUM_THREADS:
        first = {"body": f"{title}: notes from the last visit.", "tag": "worry", "kind": "concern"}
        thread = await api.call(
            "POST",
            f"/children/{child}/forum/threads",
            lead,
            {"title": title, "audience": audience, "first_post": first},
        )
        if (
            audience == "family"
        ):  # one reply and one safety scale: the board's columns and scales have content
            reply = {"body": "Agreed; next visit on Monday.", "tag": "next_step", "kind": "observation"}
            path = f"/children/{child}/forum/threads/{thread['thread_id']}"
            await api.call("POST", f"{path}/posts", api.data.members[child], reply)
            await api.call(
                "POST", f"{path}/scales", lead, {"score": 6, "comment": "steadier than last month"}
            )


async def seed_forums(forum_url: str, data: Dataset) -> float:
    """Each child's forum: a practitioners' thread, and a shared one with a reply and a safety scale."""
    t0 = time.perf_counter()
    async with httpx.AsyncClient(base_url=forum_url, timeout=60) as http:
        api = _Api(http, data)
        await _bounded([functools.partial(_seed_forum, api, c) for c in data.child_ids], CONCURRENCY)
    return time.perf_counter() - t0
