"""Children's use cases: open an account, read its header, find a child, set its flags — and `change`, the
commit loop every team change goes through.

Every use case checks the shared policy first (`accounts.checks`). A change is load → policy → domain →
commit (state and events together) → the outbox relay publishes.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from tenacity import (
    AsyncRetrying,
    RetryError,
    retry_if_exception_type,
    stop_after_attempt,
    wait_incrementing,
    wait_random,
)

from accounts.checks import check, load_child, record
from accounts.children import models
from accounts.children.models import Child, ChildDetails
from accounts.children.store import outbox_entry
from accounts.children.views import ChildHeader, header
from accounts.context import Accounts
from accounts.errors import Conflict, Invalid
from accounts.identity.models import PendingMatch, match_child
from accounts.people.models import Person, actor_of
from accounts.people.service import actor_for, person_of
from shared.access import fold
from shared.contracts.accounts import AccountEvent, Actor, account_event
from shared.events import utc_now
from shared.identity import nhs_number_problem, normalise_nhs_number
from shared.logs import correlation_id
from shared.policy import Action, ChildAccess, Decision, Principal, View, decide, search_view

_SAVE_ATTEMPTS = 20


class AlreadyRegistered(Conflict):
    def __init__(self, child_id: str) -> None:
        super().__init__("this child already has an account: ask to join the team instead")
        self.child_id = child_id

    def body(self) -> dict[str, Any]:
        return {**super().body(), "child_id": self.child_id}


@dataclass(frozen=True)
class Registration:
    status: Literal["created", "pending_match"]
    child: Child | None = None
    match: PendingMatch | None = None


# --- committing ----------------------------------------------------------------------------------------------


class _CommittedFirst(Exception):
    """Another change to the same account was committed from the state this one was decided on."""


async def change(
    ctx: Accounts,
    principal: Principal,
    action: Action,
    child_id: str,
    build: Callable[[ChildAccess, Actor, datetime], list[AccountEvent]],
) -> Child:
    """Apply a change: check, make its events, commit them; a change committed first by someone else
    means reading the account again and deciding again."""
    retrying = AsyncRetrying(
        stop=stop_after_attempt(_SAVE_ATTEMPTS),
        wait=wait_random(0, 0.01) + wait_incrementing(0, 0.01),  # spread out writers racing for one child
        retry=retry_if_exception_type(_CommittedFirst),
    )
    try:
        async for attempt in retrying:
            with attempt:
                return await _try_change(ctx, principal, action, child_id, build)
    except RetryError as err:
        raise Conflict("the account changed several times while saving; try again") from err
    raise AssertionError("unreachable: tenacity either returns or raises")


async def _try_change(
    ctx: Accounts,
    principal: Principal,
    action: Action,
    child_id: str,
    build: Callable[[ChildAccess, Actor, datetime], list[AccountEvent]],
) -> Child:
    child = await load_child(ctx, principal, action, child_id)
    await check(ctx, principal, action, child.access, child_id=child_id, record_allowed=False)
    events = build(child.access, await actor_for(ctx, principal, child.access), utc_now())
    access = fold(child.access, events)
    assert access is not None
    cid = correlation_id.get()
    outbox = [outbox_entry(ctx.topics.accounts_events, account_event(e, correlation_id=cid)) for e in events]
    saved = await ctx.store.commit(child_id=child_id, before=child, after=access, events=outbox)
    if saved is None:
        raise _CommittedFirst
    ctx.notify_outbox()
    return saved


async def open_account(
    ctx: Accounts,
    *,
    child_id: str,
    details: ChildDetails,
    lead: Person,
    actor: Actor,
    shielded: bool,
    sensitive_service: bool,
) -> Child:
    """Commit a new child's first event; `AlreadyRegistered` or `Conflict` if the id is taken."""
    now = utc_now()
    registered = models.register(
        child_id=child_id,
        details=details,
        lead=lead,
        actor=actor,
        shielded=shielded,
        sensitive_service=sensitive_service,
        now=now,
    )
    access = fold(None, [registered])
    assert access is not None
    envelope = account_event(registered, correlation_id=correlation_id.get())
    child = await ctx.store.commit(
        child_id=child_id,
        before=None,
        after=access,
        events=[outbox_entry(ctx.topics.accounts_events, envelope)],
        details=details,
        created_at=now,
    )
    if child is None:
        if details.nhs_number:
            raise AlreadyRegistered(child_id)
        raise Conflict("this account was opened already")
    ctx.notify_outbox()
    return child


# --- registering -----------------------------------------------------------------------------------------------


def _valid_details(details: ChildDetails) -> ChildDetails:
    if details.nhs_number is None:
        if not details.postcode:
            raise Invalid("without an NHS number, give the postcode so the child can be matched")
        return details
    problem = nhs_number_problem(details.nhs_number)
    if problem:
        raise Invalid(problem)
    return details.model_copy(update={"nhs_number": normalise_nhs_number(details.nhs_number)})


async def register_child(
    *,
    ctx: Accounts,
    principal: Principal,
    details: ChildDetails,
    shielded: bool,
    sensitive_service: bool,
    child_id: str | None = None,
) -> Registration:
    """Open a child's account with the practitioner as lead — unless the child may already have one: then the
    details wait for a manager, and the answer is the same for an exact and a near match (no identity oracle).
    Every attempt is audited."""
    decision = await check(ctx, principal, "register_child", None, child_id=None, record_allowed=False)
    async with _audited_if_invalid(ctx, principal, "register_child", "registration"):
        details = _valid_details(details)
    outcome = match_child(details, await ctx.store.candidates(details))
    if outcome.kind == "new":
        lead = await person_of(ctx, principal)
        child = await open_account(
            ctx,
            child_id=child_id or details.nhs_number or f"c-{uuid.uuid4().hex}",
            details=details,
            lead=lead,
            actor=actor_of(principal, sensitive_service=lead.sensitive_service),
            shielded=shielded,
            sensitive_service=sensitive_service,
        )
        # The account's first event is its record: the audit log reads accounts.events too.
        return Registration(status="created", child=child)
    known = await _known_to(ctx, principal, outcome.child_ids)
    if outcome.kind == "match" and known:
        await record(
            ctx,
            principal=principal,
            action="register_child",
            child_id=known,
            decision=decision,
            detail="already has an account the registrant may see",
        )
        raise AlreadyRegistered(known)
    match = PendingMatch(
        match_id=f"m-{uuid.uuid4().hex}",
        details=details,
        shielded=shielded,
        sensitive_service=sensitive_service,
        requested_by=principal.subject,
        candidates=outcome.child_ids,
        created_at=utc_now(),
    )
    await ctx.matches.insert_match(match)
    # On each candidate's own trail (for its lead and the auditors), and once without a child for the asker's.
    for candidate in (*outcome.child_ids, None):
        await record(
            ctx,
            principal=principal,
            action="register_child",
            child_id=candidate,
            decision=decision,
            detail=f"held for a manager as possible match {match.match_id}",
        )
    return Registration(status="pending_match", match=match)


@contextlib.asynccontextmanager
async def _audited_if_invalid(
    ctx: Accounts, principal: Principal, action: str, what: str
) -> AsyncIterator[None]:
    """An attempt refused for its input is an attempt too: on the asker's trail before the 422 (rule 2)."""
    try:
        yield
    except Invalid as err:
        refused = Decision(allowed=False, reason=f"refused: {err}", relationship="none")
        await record(ctx, principal=principal, action=action, child_id=None, decision=refused, detail=what)
        raise


async def _known_to(ctx: Accounts, principal: Principal, child_ids: Sequence[str]) -> str | None:
    """The first of these children that `principal` may already see (a relationship), if any."""
    for child_id in child_ids:
        child = await ctx.store.child(child_id)
        if child is not None and decide(principal, "view_header", child.access, now=utc_now()).allowed:
            return child_id
    return None


# --- reading ---------------------------------------------------------------------------------------------------


def header_for(
    child: Child, decision: Decision, principal: Principal, *, view: View | None = None
) -> ChildHeader:
    """The child's header as `principal` may see it (`view`: narrower than the decision's, if given)."""
    manages = decide(principal, "approve_join", child.access, now=utc_now()).allowed
    return header(
        child,
        decision,
        viewer_id=principal.subject,
        view=view or decision.view or "identity_only",
        now=utc_now(),
        manages=manages,
    )


async def child_header(*, ctx: Accounts, principal: Principal, child_id: str) -> ChildHeader:
    """The top of the child's page: who the child is and the team, as this viewer may see them."""
    child = await load_child(ctx, principal, "view_header", child_id)
    decision = await check(ctx, principal, "view_header", child.access, child_id=child_id)
    return header_for(child, decision, principal)


async def my_children(*, ctx: Accounts, principal: Principal) -> list[ChildHeader]:
    """The children whose team (or family) the signed-in person is in."""
    found = []
    for child in await ctx.store.children_of(principal.subject):
        decision = decide(principal, "view_header", child.access, now=utc_now())
        if decision.allowed:
            found.append((child, decision))
    await asyncio.gather(
        *(
            record(
                ctx,
                principal=principal,
                action="list_my_children",
                child_id=child.child_id,
                decision=decision,
            )
            for child, decision in found
        )
    )
    return [header_for(c, d, principal, view="identity_only" if d.view is None else d.view) for c, d in found]


async def _found(
    ctx: Accounts,
    *,
    nhs_number: str | None,
    given_name: str | None,
    family_name: str | None,
    date_of_birth: date | None,
) -> list[Child]:
    if nhs_number:
        problem = nhs_number_problem(nhs_number)
        if problem:
            raise Invalid(problem)
        one = await ctx.store.by_nhs_number(normalise_nhs_number(nhs_number))
        return [one] if one else []
    if given_name and family_name and date_of_birth:
        return await ctx.store.by_name_and_birth(
            given_name=given_name, family_name=family_name, date_of_birth=date_of_birth
        )
    raise Invalid("search by nhs_number, or by given_name, family_name and date_of_birth together")


async def search(
    *,
    ctx: Accounts,
    principal: Principal,
    nhs_number: str | None,
    given_name: str | None,
    family_name: str | None,
    date_of_birth: date | None,
) -> list[ChildHeader]:
    """Find a child by NHS number, or by full name and date of birth; never a list to browse. A shielded child
    is found only by someone with a relationship; to anyone else the answer is as if there were none."""
    how = "by NHS number" if nhs_number else "by name and date of birth"
    await check(ctx, principal, "search", None, child_id=None, record_allowed=False)
    async with _audited_if_invalid(ctx, principal, "search", how):
        children = await _found(
            ctx,
            nhs_number=nhs_number,
            given_name=given_name,
            family_name=family_name,
            date_of_birth=date_of_birth,
        )
    results = []
    withheld = []
    for child in children:
        decision = decide(principal, "view_header", child.access, now=utc_now())
        if child.access.shielded and not decision.allowed:
            withheld.append(child.child_id)  # a shielded child is found only by those who know them
            continue
        results.append((child, decision, search_view(decision, child.access)))
    search_decision = decide(principal, "search", None, now=utc_now())
    if not results:
        await record(
            ctx,
            principal=principal,
            action="search",
            child_id=None,
            decision=search_decision,
            detail=f"{how}: none",
        )
    shown = [(child.child_id, f"{how}: shown {view}") for child, _, view in results]
    for child_id, detail in [*shown, *((c, f"{how}: shielded, not shown") for c in withheld)]:
        await record(
            ctx,
            principal=principal,
            action="search",
            child_id=child_id,
            decision=search_decision,
            detail=detail,
        )
    return [header_for(child, decision, principal, view=view) for child, decision, view in results]


# --- flags -----------------------------------------------------------------------------------------------------


async def change_flags(
    *,
    ctx: Accounts,
    principal: Principal,
    child_id: str,
    shielded: bool,
    sensitive_service: bool,
    reason: str,
) -> Child:
    """Set or clear the shielded and sensitive-service flags (lead professional or manager)."""
    return await change(
        ctx,
        principal,
        "manage_team",
        child_id,
        lambda access, actor, now: models.change_flags(
            access,
            shielded=shielded,
            sensitive_service=sensitive_service,
            reason=reason,
            actor=actor,
            now=now,
        ),
    )
