"""'What changed since you last looked', through notifications' composition root (in-memory broker and store):
counts by kind since the person's last allowed view of the child, only what they may see now, and nothing at
all about a child they may not see."""

# The fixture `notify` is test_notifications_app's, found by pytest by name; ruff reads it as a redefinition.
# ruff: noqa: F811

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from test_notifications_app import (  # noqa: F401
    LEAD,
    LEAD_ACTOR,
    NOW,
    PARENT,
    TEACHER,
    TOPICS,
    Notify,
    _team,
    _view,
    notify,
)

from notifications.models import Alert, Recipient
from shared.contracts.accounts import MemberLeft, account_event
from testsupport.events import contact_event, forum_mention, forum_post, new_nhs_number, participant


async def _changes(notify: Notify, who: str, *children: str) -> list[dict[str, Any]]:
    query = "&".join(f"child_id={c}" for c in children)
    response = await notify.http.get(f"/changes?{query}", headers=notify.headers(who))
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["children"]
    return found


async def test_the_counts_start_again_from_the_persons_last_view_of_the_child(notify: Notify) -> None:
    child, other = new_nhs_number(), new_nhs_number()
    await _team(notify, child)
    await _team(notify, other)
    for _ in range(2):
        await notify.publish(TOPICS.contact("school"), contact_event(child, significant=True))
    await notify.publish(TOPICS.forum_events, forum_post(child, participant(LEAD)))

    (before,) = await _changes(notify, TEACHER, child)
    assert before["last_looked_at"] is None
    assert before["new"] == {"significant_contact": 2, "forum_worry": 1} and before["total"] == 3

    looked = datetime.now(UTC)
    view = _view(child, TEACHER)
    await notify.publish(
        TOPICS.audit_events, view.model_copy(update={"data": view.data.model_copy(update={"at": looked})})
    )
    await notify.publish(TOPICS.contact("health"), contact_event(child, agency="health", significant=True))

    after, untouched = await _changes(notify, TEACHER, child, other)
    assert after["new"] == {"significant_contact": 1} and after["total"] == 1
    assert datetime.fromisoformat(after["last_looked_at"]) == looked.replace(
        microsecond=looked.microsecond // 1000 * 1000
    )
    assert untouched == {"child_id": other, "last_looked_at": None, "new": {}, "total": 0, "more": False}
    await notify.publish(TOPICS.audit_events, _view(child, TEACHER))  # an older view: the last look stays
    assert (await _changes(notify, TEACHER, child))[0]["total"] == 1


async def test_a_child_the_person_may_not_see_is_left_out_entirely(notify: Notify) -> None:
    child = new_nhs_number()
    await _team(notify, child)
    await notify.publish(TOPICS.contact("school"), contact_event(child, significant=True))
    assert [c["child_id"] for c in await _changes(notify, TEACHER, child)] == [child]

    await notify.accounts(
        account_event(MemberLeft(child_id=child, seq=5, actor=LEAD_ACTOR, at=NOW, person_id=TEACHER))
    )

    assert await _changes(notify, TEACHER, child) == []
    assert await _changes(notify, "stranger-1", child) == []


async def test_the_family_counts_nothing_restricted(notify: Notify) -> None:
    child = new_nhs_number()
    await _team(notify, child)
    shared = forum_post(child, participant(LEAD), audience="family", tag="next_step")
    await notify.publish(TOPICS.forum_events, forum_mention(shared, PARENT))
    restricted = Alert(
        event_id="restricted-1",
        kind="significant_contact",
        child_id=child,
        child_initials="T.C.",
        at=NOW,
        recipients=(Recipient(PARENT, kind="family"),),
        action="read_chronology",
        restricted=True,
    )
    await notify.inboxes.deliver([restricted])

    assert len(notify.store.of(PARENT)) == 2
    (mine,) = await _changes(notify, PARENT, child)
    assert mine["new"] == {"forum_mention": 1} and mine["total"] == 1
