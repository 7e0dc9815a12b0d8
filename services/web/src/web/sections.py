"""A page's sections fetched at once: each from its own backend, each within a deadline, each failing on its own.

    sections = Sections(timeout_s=web.settings.section_timeout_s)
    header = sections.add("accounts", web.accounts.child(child_id, token=token))
    graph = sections.add("analytics", web.analytics.overview(child_id, token=token, granularity="week"))
    await sections.fetch()
    header.value  # the answer, or the BackendError to show in place of that part of the page

A section that overruns its deadline is cancelled and becomes `Unavailable`, so one slow backend costs the
page one deadline, never a stall. A lapsed sign-in (`SignedOut`) still ends the whole page.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, Generic, TypeVar

from web.clients import BackendError, SignedOut, Unavailable

T = TypeVar("T")


class Section(Generic[T]):
    """One part of a page: after `Sections.fetch`, its answer or the backend's refusal."""

    def __init__(self, service: str, call: Coroutine[Any, Any, T]) -> None:
        self.service = service
        self._call = call
        self._value: T | BackendError | None = None

    @property
    def value(self) -> T | BackendError:
        if self._value is None:
            raise RuntimeError("the section has not been fetched")
        return self._value

    async def _fetch(self, timeout_s: float) -> None:
        try:
            async with asyncio.timeout(timeout_s):
                self._value = await self._call
        except SignedOut:
            raise
        except BackendError as err:
            self._value = err
        except TimeoutError:
            self._value = Unavailable(self.service, 0, f"{self.service} took too long to answer")


class Sections:
    """The sections of one page, fetched concurrently."""

    def __init__(self, *, timeout_s: float) -> None:
        self._timeout_s = timeout_s
        self._sections: list[Section[Any]] = []

    def add(self, service: str, call: Coroutine[Any, Any, T]) -> Section[T]:
        section = Section(service, call)
        self._sections.append(section)
        return section

    async def fetch(self) -> None:
        """Fetch every section at once; raises `SignedOut` if any backend no longer accepts the sign-in."""
        try:
            async with asyncio.TaskGroup() as group:
                for section in self._sections:
                    group.create_task(section._fetch(self._timeout_s))
        except* SignedOut as signed_out:
            raise signed_out.exceptions[0] from None
