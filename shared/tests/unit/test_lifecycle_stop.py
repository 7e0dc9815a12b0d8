"""A process's stop: each step is bounded, so a stuck one neither holds the process nor skips the rest."""

import asyncio

import pytest

from shared import app
from shared.app import Lifecycle


async def test_a_stuck_stop_step_is_abandoned_and_the_steps_after_it_still_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(app, "STOP_STEP_S", 0.05)
    ran: list[str] = []

    async def stuck_broker_stop() -> None:
        await asyncio.Event().wait()  # a consumer that never leaves its group

    async def close_database() -> None:
        ran.append("database closed")

    lifecycle = Lifecycle(on_stop=[stuck_broker_stop, close_database])
    async with asyncio.timeout(5):
        async with lifecycle.running():
            pass
    assert ran == ["database closed"]
