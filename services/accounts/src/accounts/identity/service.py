"""Identity use cases: registrations that may be a known child, and contacts without an NHS number.

Which child was a contact about, when the agency had no NHS number for them? (BRIEF §3, "Identity")
Accounts reads every agency topic. A contact with an NHS number needs nothing from here. One without is
matched on name + date of birth + postcode against the children with accounts: exactly one exact match →
`contact.identified` on `identity.events` at once; anything less certain → the contact waits, stored, until a
manager says which child it was about (never merged silently). Chronology and analytics take these contacts
from `identity.events` only, so nothing lands under a wrong child and nothing is lost.
"""

from __future__ import annotations

import contextlib
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
    match_child,
)
from accounts.identity.responsible import candidates_of, refuse, shown
from accounts.identity.store import ContactMatchStore
from accounts.people.service import actor_for
from accounts.teams import service as teams
from shared.contracts.contacts import ContactRecorded, entry_key
from shared.contracts.identity import ContactIdentified, contact_identified
from shared.events import Envelope, utc_now
from shared.policy import Decision, Principal, decide

# --- registrations that may be a known child ---------------------------------------------------------------


async def open_matches(
    *, ctx: Accounts, principal: Principal
) -> list[tuple[PendingMatch, list[ChildHeader]]]:
    """Registrations waiting for a manager responsible for one of their candidates; each shows only the
    candidates this manager answers for, identity only, and each one shown is recorded as a read."""
    allowed = await check(ctx, principal, "resolve_match", None, child_id=None, record_allowed=False)
    found = []
    for match in await ctx.matches.open_matches():
        candidates = await candidates_of(ctx, principal, match.candidates)
        if not candidates.mine:
            continue
        headers = [
            header_for(
                c, decide(principal, "view_header", c.access, now=utc_now()), principal, view="identity_only"
            )
            for c in candidates.mine
        ]
        found.append((match, headers))
    await shown(
        ctx, principal, allowed, "list_matches", [(m.match_id, [h.child_id for h in hs]) for m, hs in found]
    )
    return found


async def resolve_match(
    *, ctx: Accounts, principal: Principal, match_id: str, same_child_id: str | None
) -> PendingMatch:
    """A manager responsible for the candidates decides: the same child as `same_child_id`, one of them (the
    registration becomes the requester's request to join), or none of these (a new child, opened now)."""
    allowed = await check(ctx, principal, "resolve_match", None, child_id=None, record_allowed=False)
    match = await ctx.matches.match(match_id)
    if match is None:
        raise NotFound("there is no such match")
    candidates = await candidates_of(ctx, principal, match.candidates)
    what = f"match {match_id}"
    if not candidates.mine:
        await refuse(
            ctx, principal, child_id=None, what=what, reason="you answer for none of this match's children"
        )
    if match.status != "pending":
        raise AlreadyResolved("this match was resolved already")
    if same_child_id is None:
        if not candidates.all_mine:
            await refuse(
                ctx,
                principal,
                child_id=None,
                what=what,
                reason="some of the candidates are other managers' to judge: they must agree it is a new child",
            )
        return await _open_new_child(ctx, principal, match, allowed)
    if same_child_id not in match.candidates:
        raise Invalid("that child is not one of this match's candidates")
    if same_child_id not in candidates.ids:
        await refuse(
            ctx, principal, child_id=same_child_id, what=what, reason="you do not answer for this child"
        )
    # The request to join first: if the process dies before the match is marked resolved, the manager
    # resolves it again and the request is found made (the other order lost it).
    await _ask_to_join_for(ctx, principal, match, same_child_id)
    if not await ctx.matches.resolve_match(
        match_id, status="same_child", resolved_by=principal.subject, child_id=same_child_id
    ):
        raise AlreadyResolved("this match was resolved already")
    await record(
        ctx,
        principal=principal,
        action="resolve_match",
        child_id=same_child_id,
        decision=allowed,
        detail=f"{what}: the same child",
    )
    return match.model_copy(update={"status": "same_child", "child_id": same_child_id})


async def _ask_to_join_for(ctx: Accounts, manager: Principal, match: PendingMatch, child_id: str) -> None:
    """The registration becomes the requester's request to join the child's team, made on the word of the
    manager who confirmed it (so a shielded child's too); the lead decides."""
    requester = await ctx.people.person(match.requested_by)
    if requester is None:
        return
    with contextlib.suppress(Conflict):  # already in the team, or already asking: nothing to add
        await teams.request_join(
            ctx=ctx,
            principal=requester.principal(),
            child_id=child_id,
            reason=f"asked to open an account for this child; a manager confirmed it is them ({match.match_id})",
            confirmed_by=manager,
        )


async def _open_new_child(
    ctx: Accounts, principal: Principal, match: PendingMatch, allowed: Decision
) -> PendingMatch:
    requester = await ctx.people.person(match.requested_by)
    if requester is None:
        raise NotFound("the practitioner who asked for this account no longer exists")
    nhs_number = match.details.nhs_number
    known = await ctx.store.by_nhs_number(nhs_number) if nhs_number else None
    if known is not None and known.access.lead_id != requester.person_id:  # (the requester's: a retry)
        raise Invalid("a child with this NHS number has an account: it is that child, not a new one")
    # The same id on a retry, so a retried resolution never opens two accounts.
    child_id = nhs_number or f"c-{match.match_id.removeprefix('m-')}"
    try:
        await open_account(
            ctx,
            child_id=child_id,
            details=match.details,
            lead=requester,
            actor=await actor_for(ctx, principal),
            shielded=match.shielded,
            sensitive_service=match.sensitive_service,
        )
    except Conflict:
        if await ctx.store.child(child_id) is None:
            raise
    await ctx.matches.resolve_match(
        match.match_id, status="new_child", resolved_by=principal.subject, child_id=child_id
    )
    for candidate in match.candidates:
        await record(
            ctx,
            principal=principal,
            action="resolve_match",
            child_id=candidate,
            decision=allowed,
            detail=f"match {match.match_id}: not this child",
        )
    return match.model_copy(update={"status": "new_child", "child_id": child_id})


# --- contacts without an NHS number ------------------------------------------------------------------------


def waiting_match(event: Envelope[ContactRecorded], candidates: tuple[str, ...]) -> ContactMatch:
    """The contact as it waits for a person."""
    who = event.data.child
    assert who.given_name and who.family_name and who.date_of_birth and who.postcode
    match = ContactMatch(
        id=entry_key(event.data.agency, event.id),  # an event id is unique only within its agency
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
    return match


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
        held.append((waiting_match(event, outcome.child_ids), event.model_dump_json()))
    return identified, await matches.hold(held) if held else 0


async def waiting_contacts(*, ctx: Accounts, principal: Principal) -> list[ContactMatch]:
    """Agency contacts without an NHS number that no child matched exactly, oldest first, for the managers
    responsible for their candidates: each shows only this manager's candidates, each recorded as a read."""
    allowed = await check(ctx, principal, "resolve_match", None, child_id=None, record_allowed=False)
    found = []
    for contact in await ctx.contacts.waiting():
        candidates = await candidates_of(ctx, principal, contact.candidates)
        if candidates.mine:
            found.append(contact.model_copy(update={"candidates": candidates.ids}))
    await shown(
        ctx, principal, allowed, "list_contact_matches", [(f"contact {c.id}", c.candidates) for c in found]
    )
    return found


async def identify_contact(
    *, ctx: Accounts, principal: Principal, match_id: str, child_id: str | None
) -> ContactMatch:
    """A manager responsible for the candidates says which one a waiting contact was about (it then flows on
    to that child's account), or that it was none of them (it stays here, out of every chronology)."""
    allowed = await check(ctx, principal, "resolve_match", None, child_id=None, record_allowed=False)
    held = await ctx.contacts.held(match_id)
    if held is None:
        raise NotFound(f"there is no waiting contact {match_id}")
    contact, raw = held
    candidates = await candidates_of(ctx, principal, contact.candidates)
    what = f"contact {match_id}"
    if not candidates.mine:
        await refuse(
            ctx, principal, child_id=None, what=what, reason="you answer for none of this contact's children"
        )
    if contact.status != "waiting":
        raise AlreadyResolved("this contact was identified already")
    if child_id is None:
        if not candidates.all_mine:
            await refuse(
                ctx,
                principal,
                child_id=None,
                what=what,
                reason="some of the candidates are other managers' to judge: they must agree it is none of them",
            )
        event = None
    else:
        if child_id not in contact.candidates:
            raise Invalid("that child is not one of this contact's candidates")
        if child_id not in candidates.ids:
            await refuse(
                ctx, principal, child_id=child_id, what=what, reason="you do not answer for this child"
            )
        data = ContactIdentified(
            child_id=child_id, how="confirmed_by_person", confirmed_by=principal.subject, contact=raw
        )
        event = contact_identified(data)
    # One insert holds the resolution and the event to publish: the first resolver wins, and a crash before
    # publishing leaves it for the relay (`accounts.identity.outbox`), never lost.
    if not await ctx.contacts.resolve(
        match_id, child_id=child_id, by=principal.subject, topic=ctx.topics.identity_events, event=event
    ):
        raise AlreadyResolved("this contact was identified already")
    ctx.notify_outbox()
    for candidate in contact.candidates:
        verdict = "this child" if candidate == child_id else "not this child"
        await record(
            ctx,
            principal=principal,
            action="resolve_match",
            child_id=candidate,
            decision=allowed,
            detail=f"{what}: {verdict}",
        )
    status = "identified" if child_id else "no_match"
    return contact.model_copy(
        update={"status": status, "child_id": child_id, "resolved_by": principal.subject}
    )
