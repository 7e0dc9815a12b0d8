"""A page's sections: fetched at once, each within its deadline, each failing on its own."""

from __future__ import annotations

import asyncio

import pytest

from web.clients import BackendError, Forbidden, SignedOut, Unavailable
from web.sections import Sections


async def test_sections_are_fetched_at_the_same_time() -> None:
    told = asyncio.Event()

    async def waits_for_the_other() -> str:
        await told.wait()  # only ever set by the other section: sequential fetching would hang here
        return "accounts"

    async def tells() -> str:
        told.set()
        return "chronology"

    sections = Sections(timeout_s=30)
    first = sections.add("accounts", waits_for_the_other())
    second = sections.add("chronology", tells())
    await sections.fetch()
    assert (first.value, second.value) == ("accounts", "chronology")


async def test_a_section_that_overruns_is_shown_unavailable_and_the_others_still_render() -> None:
    async def never() -> str:
        await asyncio.Event().wait()
        return "never"

    async def refuses() -> str:
        raise Forbidden("analytics", 403, "you are not in the team")

    async def answers() -> int:
        return 7

    sections = Sections(timeout_s=0.05)
    slow = sections.add("chronology", never())
    refused = sections.add("analytics", refuses())
    quick = sections.add("accounts", answers())
    await sections.fetch()
    assert isinstance(slow.value, Unavailable) and "too long" in slow.value.detail
    assert isinstance(refused.value, BackendError) and refused.value.status == 403
    assert quick.value == 7


async def test_a_lapsed_sign_in_in_any_section_ends_the_page() -> None:
    async def lapsed() -> str:
        raise SignedOut("accounts", 401, "signed out")

    async def fine() -> str:
        return "ok"

    sections = Sections(timeout_s=1)
    sections.add("chronology", fine())
    sections.add("accounts", lapsed())
    with pytest.raises(SignedOut):
        await sections.fetch()
