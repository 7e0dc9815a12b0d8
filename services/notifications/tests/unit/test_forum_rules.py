"""The forum's rules, pure: a worry → the team, a mention → the person mentioned, what a worry counts for in
the cross-agency pattern; and that no alert carries a post's words (so a redaction leaves nothing behind)."""

from __future__ import annotations

from datetime import UTC, datetime

from notifications import rules
from notifications.models import Alert
from shared.policy import ChildAccess, FamilyLink, TeamMember
from testsupport.events import forum_mention, forum_post, participant

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)
CHILD = "9434765919"
LEAD, TEACHER, NURSE, PARENT, STRANGER = "lead-1", "teacher-1", "nurse-1", "parent-1", "stranger-1"


def _member(person_id: str, agency: str) -> TeamMember:
    return TeamMember(
        person_id=person_id, name=f"Test {person_id}", kind="practitioner", agency=agency, joined_at=NOW
    )


ACCESS = ChildAccess(
    child_id=CHILD,
    display_name="Sam Test",
    lead_id=LEAD,
    members=(_member(LEAD, "socialcare"), _member(TEACHER, "school"), _member(NURSE, "health")),
    family=(FamilyLink(person_id=PARENT, name="Test parent", relationship="parent", linked_at=NOW),),
)


def _to(alert: Alert | None) -> list[str]:
    assert alert is not None
    return [r.person_id for r in alert.recipients]


def test_a_worry_reaches_the_team_but_not_its_author_nor_the_family() -> None:
    post = forum_post(CHILD, participant(TEACHER, agency="school"), audience="family")
    alert = rules.forum_worry(post.data, ACCESS, event_id=post.id)

    assert _to(alert) == [LEAD, NURSE]
    assert alert is not None and alert.action == "read_forum" and alert.child_initials == "S.T."
    assert alert.restricted is False  # a thread shared with the family


def test_a_worry_in_a_practitioner_only_thread_is_restricted_so_no_family_view_shows_it() -> None:
    post = forum_post(CHILD, participant(TEACHER, agency="school"), audience="practitioners")
    alert = rules.forum_worry(post.data, ACCESS, event_id=post.id)
    assert alert is not None and alert.restricted is True


def test_a_post_that_is_not_a_worry_tells_nobody() -> None:
    post = forum_post(CHILD, participant(TEACHER), tag="working_well")
    assert rules.forum_worry(post.data, ACCESS, event_id=post.id) is None


def test_a_mention_reaches_the_member_mentioned_with_the_threads_audience() -> None:
    post = forum_post(CHILD, participant(LEAD), audience="practitioners")
    alert = rules.forum_mention(forum_mention(post, NURSE).data, ACCESS, event_id="m1")

    assert _to(alert) == [NURSE]
    assert alert is not None and alert.restricted is True and alert.kind == "forum_mention"
    assert alert.recipients[0].agency == "health"  # what delivery checks again


def test_a_family_member_is_told_of_a_mention_only_in_a_thread_shared_with_the_family() -> None:
    shared = forum_post(CHILD, participant(LEAD), audience="family")
    private = forum_post(CHILD, participant(LEAD), audience="practitioners")

    alert = rules.forum_mention(forum_mention(shared, PARENT).data, ACCESS, event_id="m1")
    assert _to(alert) == [PARENT]
    assert alert is not None and alert.recipients[0].kind == "family" and alert.restricted is False
    assert rules.forum_mention(forum_mention(private, PARENT).data, ACCESS, event_id="m2") is None


def test_a_mention_of_someone_outside_the_team_or_by_themselves_tells_nobody() -> None:
    post = forum_post(CHILD, participant(LEAD))
    assert rules.forum_mention(forum_mention(post, STRANGER).data, ACCESS, event_id="m1") is None
    assert rules.forum_mention(forum_mention(post, LEAD).data, ACCESS, event_id="m2") is None


def test_a_practitioners_worry_counts_for_their_agency_and_a_familys_for_none() -> None:
    assert (
        rules.worry_signal_agency(forum_post(CHILD, participant(TEACHER, agency="school")).data) == "school"
    )
    assert rules.worry_signal_agency(forum_post(CHILD, participant(PARENT, family=True)).data) is None
    assert rules.worry_signal_agency(forum_post(CHILD, participant(TEACHER, agency=None)).data) is None
    not_a_worry = forum_post(CHILD, participant(TEACHER, agency="school"), tag="next_step")
    assert rules.worry_signal_agency(not_a_worry.data) is None


def test_no_forum_alert_carries_the_posts_words_or_its_author() -> None:
    words = "Uncle Dave shouted at her by the canal"
    post = forum_post(CHILD, participant(TEACHER, agency="school"), body=words)
    alerts = [
        rules.forum_worry(post.data, ACCESS, event_id=post.id),
        rules.forum_mention(forum_mention(post, NURSE).data, ACCESS, event_id="m1"),
    ]
    for alert in alerts:
        text = repr(alert)
        assert all(word not in text for word in ("Uncle", "Dave", "canal", f"Test {TEACHER}", "school"))
