"""Forum events through notifications' composition root (in-memory broker and store): worries, mentions, and
worries counting toward the cross-agency pattern beside significant contacts."""

# ruff: noqa: F811  (the fixtures imported from the neighbouring module are redefined as parameters)
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from test_notifications_app import LEAD, PARENT, TEACHER, TOPICS, Notify, _team, notify  # noqa: F401

from testsupport.events import (
    contact_event,
    forum_mention,
    forum_post,
    forum_redaction,
    new_nhs_number,
    participant,
)


async def test_a_worry_reaches_the_team_but_not_its_author_and_a_mention_the_person_named(
    notify: Notify,
) -> None:
    child = new_nhs_number()
    await _team(notify, child)
    worry = forum_post(child, participant(TEACHER), audience="practitioners")
    await notify.publish(TOPICS.forum_events, worry, forum_mention(worry, LEAD))

    assert await notify.kinds(LEAD) == ["forum_worry", "forum_mention"]
    assert await notify.kinds(TEACHER) == []
    assert await notify.kinds(PARENT) == []
    assert notify.store.of(PARENT) == []  # not even stored for the family: the team is told


async def test_a_mention_of_the_family_in_a_shared_thread_reaches_them_and_in_a_private_one_never(
    notify: Notify,
) -> None:
    child = new_nhs_number()
    await _team(notify, child)
    shared = forum_post(child, participant(LEAD), audience="family", tag="next_step")
    private = forum_post(child, participant(LEAD), audience="practitioners", tag="next_step")
    await notify.publish(TOPICS.forum_events, forum_mention(shared, PARENT), forum_mention(private, PARENT))

    assert await notify.kinds(PARENT) == ["forum_mention"]
    assert len(notify.store.of(PARENT)) == 1


async def test_a_redelivered_worry_or_a_redaction_makes_no_second_notification(notify: Notify) -> None:
    child = new_nhs_number()
    await _team(notify, child)
    worry = forum_post(child, participant(TEACHER), body="She said her stepdad locks her out")
    await notify.publish(TOPICS.forum_events, worry, worry, forum_redaction(worry, participant(LEAD)))

    (note,) = [d for d in notify.store.of(LEAD) if d["kind"] == "forum_worry"]
    assert "stepdad" not in repr(notify.store.inbox) and "locks" not in repr(notify.store.emails)
    assert note["path"] == f"/children/{child}#forum"


async def test_practitioners_worries_count_toward_the_cross_agency_pattern_by_their_agency(
    notify: Notify,
) -> None:
    child, other = new_nhs_number(), new_nhs_number()
    await _team(notify, child)
    await _team(notify, other)
    day = datetime(2026, 3, 1, 9, tzinfo=UTC)
    for about in (child, other):
        await notify.publish(
            TOPICS.contact("school"), contact_event(about, agency="school", significant=True, occurred_at=day)
        )
        # a worry from the same agency as the contact, and a parent's: no new agency
        for by in (participant(TEACHER, agency="school"), participant(PARENT, family=True)):
            await notify.publish(TOPICS.forum_events, forum_post(about, by, at=day + timedelta(days=1)))
        await notify.publish(
            TOPICS.forum_events,
            forum_post(about, participant("gp-1", agency="health"), at=day + timedelta(days=2)),
        )
    await notify.publish(
        TOPICS.forum_events,
        forum_post(child, participant("pc-1", agency="police"), at=day + timedelta(days=3)),
    )

    patterns = [d for d in notify.store.of(LEAD) if d["kind"] == "cross_agency_pattern"]
    assert [d["child_id"] for d in patterns] == [child]  # three agencies, once; two for the other child
