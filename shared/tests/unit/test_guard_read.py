"""`Guard.read`: the read runs while its audit record is on its way, yet nothing read is returned before the
record is acknowledged, a read that cannot be recorded is refused, and a refused reader reads nothing."""

from __future__ import annotations

import asyncio

import pytest

from shared.audit import MemoryAuditSink
from shared.contracts.audit import AuditRecorded
from shared.errors import AccessRefused, AccessUnavailable, AuditUnavailable
from shared.events import Envelope
from shared.guard import Guard
from shared.kafka.consumer import Incoming
from shared.policy import Decision, Principal
from testsupport.events import account_opened, new_nhs_number
from testsupport.memory import MemoryAccessSnapshots

LEAD = Principal(subject="lead-1", name="Lead", kind="practitioner")
STRANGER = Principal(subject="someone-else", name="Someone", kind="practitioner")


class HeldSink(MemoryAuditSink):
    """Keeps each record, acknowledging it only once `ack` is set; `failing` makes every send fail."""

    def __init__(self) -> None:
        super().__init__()
        self.ack = asyncio.Event()
        self.failing = False

    async def send(self, event: Envelope[AuditRecorded]) -> None:
        await self.ack.wait()
        if self.failing:
            raise ConnectionError("the broker is away")
        await super().send(event)


async def _guard() -> tuple[Guard, HeldSink, MemoryAccessSnapshots, str]:
    snapshots, sink = MemoryAccessSnapshots(), HeldSink()
    child = new_nhs_number()
    events = account_opened(child, lead_id=LEAD.subject)
    await snapshots.on_account_events([Incoming("accounts.events", 0, n, e) for n, e in enumerate(events)])
    return Guard(snapshots, audit_sink=sink, service="test"), sink, snapshots, child


async def test_the_read_runs_before_the_record_is_acknowledged_and_returns_only_after_it() -> None:
    guard, sink, _, child = await _guard()
    fetched = asyncio.Event()

    async def fetch(decision: Decision) -> str:
        assert decision.allowed
        fetched.set()
        return "the chronology"

    reading = asyncio.create_task(guard.read(LEAD, "read_chronology", child, fetch, detail="page"))
    await asyncio.wait_for(fetched.wait(), 2)  # the audit record is still unacknowledged here
    await asyncio.sleep(0.01)
    assert not reading.done(), "returned before the audit record was acknowledged"
    sink.ack.set()
    assert await asyncio.wait_for(reading, 2) == "the chronology"
    [record] = sink.events
    assert (record.data.action, record.data.allowed, record.data.detail) == ("read_chronology", True, "page")


async def test_a_read_that_cannot_be_recorded_is_refused_whatever_it_read() -> None:
    guard, sink, _, child = await _guard()
    sink.failing = True
    sink.ack.set()

    async def fetch(decision: Decision) -> str:
        return "the chronology"

    with pytest.raises(AuditUnavailable):
        await guard.read(LEAD, "read_chronology", child, fetch)


@pytest.mark.parametrize("stale", [False, True], ids=["refused", "stale snapshot"])
async def test_a_refused_reader_reads_nothing_and_the_refusal_is_recorded(stale: bool) -> None:
    guard, sink, snapshots, child = await _guard()
    sink.ack.set()
    if stale:
        snapshots.stale[child] = "an account event was dead-lettered"
    calls: list[Decision] = []

    async def fetch(decision: Decision) -> str:
        calls.append(decision)
        return "the chronology"

    with pytest.raises(AccessUnavailable if stale else AccessRefused):
        await guard.read(LEAD if stale else STRANGER, "read_chronology", child, fetch)
    assert calls == []
    [record] = sink.events
    assert record.data.allowed is False


async def test_a_read_that_fails_is_still_recorded_and_its_error_is_raised() -> None:
    guard, sink, _, child = await _guard()
    sink.ack.set()

    async def fetch(decision: Decision) -> str:
        raise LookupError("the database is away")

    with pytest.raises(LookupError):
        await guard.read(LEAD, "read_chronology", child, fetch)
    assert [r.data.allowed for r in sink.events] == [True]
