"""'What changed since you last looked' through the real stack: the last look comes from the person's allowed
views on audit.events (kept with `$max` on FerretDB), the counts from their inbox since then."""

# The fixtures are test_notifications_flow's, found by pytest by name; ruff reads them as redefinitions.
# ruff: noqa: F811

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from notify_support import IDS, Publisher, Service
from test_notifications_flow import TEACHER, joined, mailbox, opened, publish, service  # noqa: F401

from shared.contracts.audit import AUDIT_RECORDED, AuditRecorded
from shared.events import make_event
from testsupport.events import contact_event, new_nhs_number
from testsupport.offline import eventually_async

pytestmark = pytest.mark.integration


def _view(child: str, who: str, at: datetime, *, allowed: bool = True) -> Any:
    data = AuditRecorded(
        actor_id=who,
        actor_name=who,
        actor_kind="practitioner",
        action="read_chronology",
        child_id=child,
        allowed=allowed,
        reason="member",
        relationship="member",
        service="chronology",
        at=at,
    )
    return make_event(type=AUDIT_RECORDED, source="chronology", subject=child, data=data)


async def _changes(service: Service, who: str, child: str) -> list[dict[str, Any]]:
    async with service.client() as http:
        response = await http.get(f"/changes?child_id={child}", headers=IDS.headers(who))
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["children"]
    return found


async def test_what_changed_since_the_last_look_counts_from_the_persons_last_allowed_view(
    service: Service, publish: Publisher
) -> None:
    topics = service.topics
    child = new_nhs_number()
    await publish(topics.accounts_events, *opened(child), *joined(child, TEACHER, 2))
    await service.until_members(child, TEACHER)
    await publish(topics.contact("school"), contact_event(child, significant=True))

    async def counted(total: int, looked: bool) -> bool:
        found = await _changes(service, TEACHER, child)
        return (
            bool(found) and found[0]["total"] == total and (found[0]["last_looked_at"] is not None) == looked
        )

    await eventually_async(lambda: counted(1, False), what="one new notification, never looked", within=30)
    now = datetime.now(UTC)
    await publish(
        topics.audit_events,
        _view(child, TEACHER, now + timedelta(days=1), allowed=False),  # a refusal is not a look
        _view(child, TEACHER, now),
        _view(child, TEACHER, now - timedelta(hours=1)),  # an older view, arriving later
    )
    await eventually_async(lambda: counted(0, True), what="the view to start the count again", within=30)
    await publish(topics.contact("health"), contact_event(child, agency="health", significant=True))
    await eventually_async(lambda: counted(1, True), what="the contact after the view", within=30)
    (found,) = await _changes(service, TEACHER, child)
    assert found["new"] == {"significant_contact": 1}
    assert abs(datetime.fromisoformat(found["last_looked_at"]) - now) < timedelta(seconds=1)
    assert await _changes(service, "stranger-1", child) == []
