"""Signing in, refreshing and signing out (the built-in identity provider).

Sign-in answers one refusal for every failure — unknown name, wrong password, locked or disabled account — so
the answer never tells whether a user name exists (no user-name oracle), and it costs one password hash
whichever it is. Attempts are limited per user name and per client (`accounts.people.throttle`); repeated
failures lock the user name for the failure window, known or not, and a known account's lock is also stored on
the person so that it outlives a restart. Locking and the lock's lapse are audited.

A sign-in begins a session (`accounts.people.sessions`): a short-lived access token carrying the session id,
and a refresh token that the web swaps for a new pair before the access token expires. Signing out ends the
session and publishes `session.ended`; every service then refuses the session's tokens (`shared.auth`).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from accounts.checks import record
from accounts.context import Accounts
from accounts.errors import Unauthenticated
from accounts.people import passwords
from accounts.people.keys import SigningKeys
from accounts.people.models import Person, actor_of
from accounts.people.sessions import Session
from accounts.people.throttle import Throttle
from shared.auth import IssuedToken
from shared.contracts.accounts import SessionEnded, person_event
from shared.events import utc_now
from shared.policy import Decision, Principal

log = logging.getLogger(__name__)

REFUSED = (
    "the user name or password is wrong, or the account is locked for a while after repeated failed sign-ins"
)
# Verifiers accept a token this long past its `exp` (AuthSettings.auth_leeway_s, at most 300 s).
VERIFIER_LEEWAY = timedelta(seconds=300)


class SignInFailed(Unauthenticated):
    """Sign-in refused; which of the reasons it was is not said."""


class RefreshRefused(Unauthenticated):
    """The refresh token is not (or no longer) good for a new access token: sign in again."""


@dataclass(frozen=True)
class Tokens:
    """What a sign-in or a refresh hands back."""

    access: IssuedToken
    refresh_token: str
    refresh_expires_at: datetime


async def sign_in(
    *, ctx: Accounts, keys: SigningKeys, throttle: Throttle, username: str, password: str, client: str
) -> Tokens:
    """Tokens for the person with this user name and password; an outdated hash of the password is replaced
    by an argon2id one."""
    await throttle.attempt(username=username, client=client)
    person = await ctx.people.person_by_username(username)
    stored = person.password_hash if person else None
    # Hashing is deliberately slow: keep it off the event loop. It runs even for a locked or unknown name.
    valid, updated = await asyncio.to_thread(passwords.check, password, stored)
    now = utc_now()
    if person is not None and person.locked_until is not None and person.locked_until <= now:
        person = await _lock_lapsed(ctx, person)
    locked = await throttle.locked(username) or (
        person is not None and person.locked_until is not None and person.locked_until > now
    )
    if locked or not valid or person is None or stored is None:
        if not locked and await throttle.failed(username) and person is not None:
            await _lock(ctx, throttle, person, now)
        log.info("sign-in refused", extra={"fields": {"username": username[:100], "locked": locked}})
        raise SignInFailed(REFUSED)
    if person.disabled:
        await _refused(ctx, person, "sign-in refused: the account is disabled")
        raise SignInFailed(REFUSED)
    await throttle.forget_failures(username)
    if updated is not None:
        await ctx.people.replace_password_hash(person.person_id, old=stored, new=updated)
    now = await _past_the_disabling_second(person, now)
    session, refresh_token = await ctx.sessions.start(person.person_id, now=now, lasts=ctx.session_lasts)
    return _tokens(keys, person, session, refresh_token, now)


async def refresh(
    *, ctx: Accounts, keys: SigningKeys, throttle: Throttle, refresh_token: str, client: str
) -> Tokens:
    """A new access token and refresh token for a live session; the refresh token presented is spent."""
    await throttle.refresh(client=client)
    now = utc_now()
    rotation = await ctx.sessions.rotate(refresh_token, now=now)
    session = rotation.session
    if rotation.outcome == "reused" and session is not None:
        person = await ctx.people.person(session.person_id)
        if person is not None:
            await end_session(ctx, keys, person.principal(), session, reason="refresh_token_reused")
    if rotation.outcome != "rotated" or session is None or rotation.refresh_token is None:
        raise RefreshRefused("this sign-in has ended; sign in again")
    person = await ctx.people.person(session.person_id)
    if person is None or person.disabled:
        raise RefreshRefused("this sign-in has ended; sign in again")
    if person.sessions_after is not None and session.started_at <= person.sessions_after:
        raise RefreshRefused("this sign-in has ended; sign in again")
    return _tokens(
        keys, person, session, rotation.refresh_token, await _past_the_disabling_second(person, now)
    )


async def sign_out(*, ctx: Accounts, keys: SigningKeys, principal: Principal, session_id: str | None) -> bool:
    """End the session the caller's token belongs to; False if it has none here (a council IdP's token)."""
    session = await ctx.sessions.session(session_id) if session_id else None
    if session is None or session.person_id != principal.subject:
        return False
    return await end_session(ctx, keys, principal, session, reason="signed_out")


async def end_session(
    ctx: Accounts, keys: SigningKeys, actor: Principal, session: Session, *, reason: str
) -> bool:
    """End `session` and publish `session.ended`, which every service's verifier follows."""
    now = utc_now()
    event = SessionEnded(
        person_id=session.person_id,
        actor=actor_of(actor),
        at=now,
        tokens_until=now + keys.issuer.ttl + VERIFIER_LEEWAY,
        session_id=session.session_id,
        reason="refresh_token_reused" if reason == "refresh_token_reused" else "signed_out",
    )
    ended = await ctx.sessions.end(
        session.session_id, now=now, topic=ctx.topics.accounts_events, event=person_event(event)
    )
    ctx.notify_outbox()
    return ended


async def _past_the_disabling_second(person: Person, now: datetime) -> datetime:
    """`now`, or the start of the next second when the account was disabled earlier in this one: a token's
    `iat` is in whole seconds, and every service refuses tokens issued no later than the disabling, so a
    token issued in that second after the account was enabled again would be refused as if stolen."""
    disabled = person.sessions_after
    if disabled is None or int(now.timestamp()) > disabled.timestamp():
        return now
    while int(now.timestamp()) <= disabled.timestamp():  # the loop's timer may wake a little early
        await asyncio.sleep(max(int(disabled.timestamp()) + 1 - now.timestamp(), 0.001))
        now = utc_now()
    return now


def _tokens(keys: SigningKeys, person: Person, session: Session, refresh_token: str, now: datetime) -> Tokens:
    # No access token outlives its session.
    ttl = min(keys.issuer.ttl, session.expires_at - now)
    access = keys.issuer.issue(person.principal(), now=now, ttl=ttl, session_id=session.session_id)
    return Tokens(access=access, refresh_token=refresh_token, refresh_expires_at=session.expires_at)


async def _lock(ctx: Accounts, throttle: Throttle, person: Person, now: datetime) -> None:
    until = now + timedelta(seconds=throttle.lock_for_s)
    if await ctx.people.set_lock(person.person_id, until=until, was=person.locked_until):
        limit = throttle.limits.failures
        await _refused(
            ctx,
            person,
            f"account locked until {until:%H:%M} UTC after {limit.amount} failed sign-ins "
            f"within {throttle.lock_for_s // 60} minutes",
        )


async def _lock_lapsed(ctx: Accounts, person: Person) -> Person:
    if await ctx.people.set_lock(person.person_id, until=None, was=person.locked_until):
        decision = Decision(allowed=True, reason="account unlocked: its lock lapsed", relationship="none")
        await record(
            ctx, principal=person.principal(), action="sign_in", child_id=None, decision=decision, detail=None
        )
    return person.model_copy(update={"locked_until": None})


async def _refused(ctx: Accounts, person: Person, reason: str) -> None:
    decision = Decision(allowed=False, reason=reason, relationship="none")
    await record(ctx, principal=person.principal(), action="sign_in", child_id=None, decision=decision)
