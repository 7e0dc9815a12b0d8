"""A token issued right after an account is enabled again is never mistaken for one issued before it was
disabled: `iat` is in whole seconds, so accounts waits out the second of the disabling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from accounts.people.models import Person
from accounts.people.signin import _past_the_disabling_second


def _person(disabled_at: datetime | None) -> Person:
    return Person(person_id="p", username="u", name="N", kind="practitioner", sessions_after=disabled_at)


async def test_a_token_in_the_second_of_a_disabling_is_issued_in_the_next_second() -> None:
    disabled = datetime.now(UTC)
    issued = await _past_the_disabling_second(_person(disabled), disabled + timedelta(milliseconds=1))
    assert int(issued.timestamp()) > disabled.timestamp()


async def test_a_token_long_after_a_disabling_or_without_one_is_issued_at_once() -> None:
    now = datetime.now(UTC)
    assert await _past_the_disabling_second(_person(now - timedelta(seconds=5)), now) == now
    assert await _past_the_disabling_second(_person(None), now) == now
