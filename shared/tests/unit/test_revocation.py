"""The revocation list every verifier asks: sessions signed out and accounts disabled refuse their tokens, for
as long as such a token could still be unexpired, and no longer. And the decoders keep person events and
children's account events apart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.auth import Revocations, SigningKey, StaticKeys, TokenIssuer, TokenRejected, TokenVerifier
from shared.contracts.accounts import (
    Actor,
    MemberLeft,
    PersonDisabled,
    PersonEnabled,
    SessionEnded,
    account_event,
    decode_account_event,
    decode_person_event,
    person_event,
)
from shared.events import NotForThisConsumer
from shared.policy import Principal

ACTOR = Actor(person_id="p-manager", name="A Manager", kind="manager", agency="socialcare")
ALICE = Principal(subject="p-alice", name="Alice", kind="practitioner", agency="socialcare")
T0 = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self, at: datetime) -> None:
        self.now = at.timestamp()

    def __call__(self) -> float:
        return self.now


def ended(session_id: str, *, at: datetime = T0, lasts: timedelta = timedelta(minutes=10)) -> SessionEnded:
    return SessionEnded(
        person_id="p-alice",
        actor=ACTOR,
        at=at,
        tokens_until=at + lasts,
        session_id=session_id,
        reason="signed_out",
    )


def disabled(person_id: str = "p-alice", *, at: datetime = T0) -> PersonDisabled:
    return PersonDisabled(
        person_id=person_id, actor=ACTOR, at=at, tokens_until=at + timedelta(minutes=10), reason="left"
    )


def test_a_signed_out_session_refuses_its_tokens_and_no_other_session() -> None:
    revocations = Revocations(clock=Clock(T0))
    revocations.apply(ended("s-1"))
    assert revocations.revoked(subject="p-alice", session_id="s-1", issued_at=T0.timestamp())
    assert revocations.revoked(subject="p-alice", session_id="s-2", issued_at=T0.timestamp()) is None


def test_a_disabled_account_refuses_tokens_issued_before_not_after() -> None:
    revocations = Revocations(clock=Clock(T0))
    revocations.apply(disabled())
    before = (T0 - timedelta(minutes=1)).timestamp()
    after = (T0 + timedelta(minutes=1)).timestamp()
    assert revocations.revoked(subject="p-alice", session_id=None, issued_at=before)
    assert revocations.revoked(subject="p-alice", session_id=None, issued_at=after) is None
    assert revocations.revoked(subject="p-bob", session_id=None, issued_at=before) is None
    revocations.apply(
        PersonEnabled(
            person_id="p-alice", actor=ACTOR, at=T0, tokens_until=T0 + timedelta(minutes=10), reason="back"
        )
    )
    assert revocations.revoked(subject="p-alice", session_id=None, issued_at=before)  # old tokens stay dead


def test_an_entry_is_forgotten_once_every_token_it_affects_has_expired() -> None:
    clock = Clock(T0)
    revocations = Revocations(clock=clock)
    revocations.apply(ended("s-1"))
    revocations.apply(disabled())
    assert len(revocations) == 2
    clock.now = (T0 + timedelta(minutes=11)).timestamp()
    revocations.prune()
    assert len(revocations) == 0
    revocations.apply(ended("s-old", at=T0 - timedelta(hours=1)))  # read back at start, long expired
    assert len(revocations) == 0


async def test_the_verifier_refuses_a_revoked_token_with_the_reason() -> None:
    issuer = TokenIssuer(keys=[SigningKey.generate()], issuer="i", audience="a")
    revocations = Revocations()
    verifier = TokenVerifier(
        keys=StaticKeys.from_jwks(issuer.jwks()), issuer="i", audience="a", revocations=revocations
    )
    token = issuer.issue(ALICE, session_id="s-9").access_token
    assert (await verifier.check(token)).session_id == "s-9"
    revocations.apply(ended("s-9", at=datetime.now(UTC)))
    with pytest.raises(TokenRejected, match="signed out"):
        await verifier.verify(token)


def test_person_events_and_account_events_each_pass_the_other_decoder_by() -> None:
    person = person_event(disabled()).model_dump_json().encode()
    child = (
        account_event(MemberLeft(child_id="9434765919", seq=2, actor=ACTOR, at=T0, person_id="p-alice"))
        .model_dump_json()
        .encode()
    )
    assert isinstance(decode_person_event("accounts.events", person).data, PersonDisabled)
    with pytest.raises(NotForThisConsumer):
        decode_account_event("accounts.events", person)
    with pytest.raises(NotForThisConsumer):
        decode_person_event("accounts.events", child)
