"""Identity use cases: registrations that may be a known child, and contacts without an NHS number.

Which child was a contact about, when the agency had no NHS number for them? (BRIEF §3, "Identity")
Accounts reads every agency topic. A contact with an NHS number needs nothing from here. One without is
matched on name + date of birth + postcode against the children with accounts: exactly one exact match →
`contact.identified` on `identity.events` at once; anything less certain → the contact waits, stored, until a
manager says which child it was about (never merged silently). Chronology and analytics take these contacts
from `identity.events` only, so nothing lands under a wrong child and nothing is lost.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

from accounts.checks import check, record
from accounts.children.models import ChildDetails
from accounts.children.service import header_for, open_account
from accounts.children.store import ChildStore
from accounts.children.views import ChildHeader
from accounts.context import Accounts
from accounts.errors import Conflict, Invalid, NotFound
from accounts.identity.models import (
    AlreadyResolved,
    ContactMatch,
    PendingMatch,
    Publish,
    UnknownChild,
    match_child,
)
from accounts.identity.store import ContactMatchStore
from accounts.people.models import actor_of
from shared.contracts.contacts import ContactRecorded
from shared.contracts.identity import ContactIdentified, contact_identified
from shared.events import Envelope, utc_now
from shared.policy import Decision, Principal, decide

# --- registrations that may be a known child ---------------------------------------------------------------


async def open_matches(
    *, ctx: Accounts, principal: Principal
) -> list[tuple[PendingMatch, list[ChildHeader]]]:
    """Registrations waiting for a manager to say whether they are a child who already has an account; the
    candidates show identity only, and each one shown is recorded as a read of that child."""
    allowed = await check(ctx, principal, "resolve_match", None, child_id=None, record_allowed=False)
    found = []
    for match in await ctx.matches.open_matches():
        candidates = [c for c in [await ctx.store.child(i) for i in match.candidates] if c is not None]
        headers = [
            header_for(
                c, decide(principal, "view_header", c.access, now=utc_now()), principal, view="identity_only"
            )
            for c in candidates
        ]
        found.append((match, headers))
    await _shown(
        ctx, principal, allowed, "list_matches", [(m.match_id, [h.child_id for h in hs]) for m, hs in found]
    )
    return found


async def _shown(
    ctx: Accounts,
    principal: Principal,
    decision: Decision,
    action: str,
    shown: Sequence[tuple[str, Sequence[str]]],
) -> None:
    """One audit record per child shown as a candidate (a match list names children: each is a read)."""
    await asyncio.gather(
        *(
            record(
                ctx,
                principal=principal,
                action=action,
                child_id=child_id,
                decision=decision,
                detail=f"candidate in {what}",
            )
            for what, child_ids in shown
            for child_id in child_ids
        )
    )


async def resolve_match(
    *, ctx: Accounts, principal: Principal, match_id: str, same_child_id: str | None
) -> PendingMatch:
    """A manager decides: the same child as `same_child_id` (no new account), or a new child (opened now)."""
    await check(ctx, principal, "resolve_match", None, child_id=same_child_id, detail=f"match {match_id}")
    match = await ctx.matches.match(match_id)
    if match is None:
        raise NotFound("there is no such match")
    if match.status != "pending":
        raise AlreadyResolved("this match was resolved already")
    if same_child_id is None:
        return await _open_new_child(ctx, principal, match)
    if same_child_id not in match.candidates:
        raise Invalid("that child is not one of this match's candidates")
    if not await ctx.matches.resolve_match(
        match_id, status="same_child", resolved_by=principal.subject, child_id=same_child_id
    ):
        raise AlreadyResolved("this match was resolved already")
    return match.model_copy(update={"status": "same_child", "child_id": same_child_id})


async def _open_new_child(ctx: Accounts, principal: Principal, match: PendingMatch) -> PendingMatch:
    requester = await ctx.people.person(match.requested_by)
    if requester is None:
        raise NotFound("the practitioner who asked for this account no longer exists")
    # The same id on a retry, so a retried resolution never opens two accounts.
    child_id = match.details.nhs_number or f"c-{match.match_id.removeprefix('m-')}"
    try:
        await open_account(
            ctx,
            child_id=child_id,
            details=match.details,
            lead=requester,
            actor=actor_of(principal),
            shielded=match.shielded,
            sensitive_service=match.sensitive_service,
        )
    except Conflict:
        if await ctx.store.child(child_id) is None:
            raise
    await ctx.matches.resolve_match(
        match.match_id, status="new_child", resolved_by=principal.subject, child_id=child_id
    )
    return match.model_copy(update={"status": "new_child", "child_id": child_id})


# --- contacts without an NHS number ------------------------------------------------------------------------


def _waiting(event: Envelope[ContactRecorded], candidates: tuple[str, ...]) -> tuple[ContactMatch, str]:
    who = event.data.child
    assert who.given_name and who.family_name and who.date_of_birth and who.postcode
    match = ContactMatch(
        id=event.id,
        status="waiting",
        agency=event.data.agency,
        given_name=who.given_name,
        family_name=who.family_name,
        date_of_birth=who.date_of_birth.isoformat(),
        postcode=who.postcode,
        occurred_at=event.data.occurred_at,
        candidates=list(candidates),
        received_at=datetime.now(UTC),
    )
    return match, event.model_dump_json()


async def identify_contacts(
    *,
    children: ChildStore,
    matches: ContactMatchStore,
    publish: Publish,
    events: Sequence[Envelope[ContactRecorded]],
) -> tuple[int, int]:
    """Identify contacts without an NHS number; returns (identified now, left waiting for a person)."""
    identified, held = 0, []
    for event in events:
        who = event.data.child
        if who.nhs_number or not (who.given_name and who.family_name and who.date_of_birth and who.postcode):
            continue
        details = ChildDetails(
            given_name=who.given_name,
            family_name=who.family_name,
            date_of_birth=who.date_of_birth,
            postcode=who.postcode,
        )
        outcome = match_child(details, await children.candidates(details))
        if outcome.kind == "match":
            child_id = outcome.child_ids[0]
            await publish(
                contact_identified(ContactIdentified(child_id=child_id, how="exact_match", contact=event))
            )
            identified += 1
            continue
        held.append(_waiting(event, outcome.child_ids))
    return identified, await matches.hold(held) if held else 0


async def waiting_contacts(*, ctx: Accounts, principal: Principal) -> list[ContactMatch]:
    """Agency contacts without an NHS number that no child matched exactly, oldest first (managers)."""
    allowed = await check(ctx, principal, "resolve_match", None, child_id=None, record_allowed=False)
    waiting = await ctx.contacts.waiting()
    await _shown(
        ctx, principal, allowed, "list_contact_matches", [(f"contact {w.id}", w.candidates) for w in waiting]
    )
    return waiting


async def identify_contact(
    *, ctx: Accounts, principal: Principal, match_id: str, child_id: str
) -> ContactIdentified:
    """A manager says which child a waiting contact was about; it then flows on to that child's account."""
    await check(ctx, principal, "resolve_match", None, child_id=child_id, detail=f"contact {match_id}")
    if await ctx.store.child(child_id) is None:
        raise UnknownChild(f"there is no child {child_id}")
    contact = await ctx.contacts.contact(match_id)
    if contact is None:
        raise NotFound(f"there is no waiting contact {match_id}")
    if not await ctx.contacts.resolve(match_id, child_id=child_id, by=principal.subject):
        raise AlreadyResolved("this contact was identified already")
    data = ContactIdentified(
        child_id=child_id, how="confirmed_by_person", confirmed_by=principal.subject, contact=contact
    )
    try:
        await ctx.publish_identified(contact_identified(data))
    except Exception:
        await ctx.contacts.reopen(match_id)  # not published: leave it waiting rather than lose it
        raise
    return data
