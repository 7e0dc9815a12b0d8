"""Forum events on the chronology, through chronology's composition root with in-memory fakes (the fixture is
test_chronology_app's): worries, pins and scales become entries with their thread's audience as visibility,
a redaction reaches them and the exports, and a redelivered event changes nothing."""

# The fixture `chronology` is test_chronology_app's, found by pytest by name; ruff reads it as a redefinition.
# ruff: noqa: F811

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from test_chronology_app import PARENT, TOPICS, Chronology, chronology  # noqa: F401

from shared.contracts.forum import (
    TYPE_OF,
    Audience,
    ForumEvent,
    Participant,
    PostAdded,
    PostPinned,
    PostRedacted,
    ScaleRecorded,
)
from shared.events import Envelope, make_event
from testsupport.events import new_nhs_number

LEAD_P = Participant(person_id="lead-1", name="Sam Lead", kind="practitioner", role="social worker")
FAMILY_P = Participant(person_id=PARENT, name="Jo Parent", kind="family", role="parent")


def _event(data: ForumEvent) -> Envelope[ForumEvent]:
    event: Envelope[ForumEvent] = make_event(
        type=TYPE_OF[type(data)], source="forum", subject=data.child_id, data=data
    )
    return event


def _common(child: str, audience: Audience, by: Participant = LEAD_P) -> dict[str, Any]:
    return {"child_id": child, "thread_id": "t1", "audience": audience, "by": by, "at": datetime.now(UTC)}


def worry(child: str, audience: Audience, body: str, post_id: str | None = None) -> Envelope[ForumEvent]:
    return _event(
        PostAdded(
            **_common(child, audience),
            post_id=post_id or uuid.uuid4().hex,
            tag="worry",
            kind="concern",
            body=body,
        )
    )


async def test_worries_pins_and_scales_appear_with_their_threads_audience(chronology: Chronology) -> None:
    child = new_nhs_number()
    await chronology.open_account(child)
    shared = worry(child, "family", "Amy was left alone overnight.", post_id="p1")
    private = worry(child, "practitioners", "Police intelligence about the new partner.")
    pinned = _event(
        PostPinned(**_common(child, "family"), post_id="p1", pin="danger_statement", summary="Left alone.")
    )
    scale = _event(
        ScaleRecorded(**_common(child, "family", FAMILY_P), scale_id="s1", score=6, comment="Better")
    )
    progress = _event(
        PostAdded(**_common(child, "family"), post_id="p9", tag="working_well", kind="progress", body="Good")
    )

    await chronology.publish(TOPICS.forum_events, shared, private, pinned, scale, progress)

    team = await chronology.summaries(child, kind="forum")
    family = await chronology.summaries(child, who=PARENT, kind="forum")
    assert len(team) == 4 and any("Police intelligence" in s for s in team)
    assert family == [s for s in team if "Police" not in s]
    assert "Danger statement, pinned by a social worker: Left alone." in family
    assert "Jo Parent (family) said how safe the child is now: 6 out of 10. Better" in family
    assert await chronology.summaries(child, kind="contact") == []


async def test_a_redaction_reaches_the_entries_and_the_exports(chronology: Chronology) -> None:
    child = new_nhs_number()
    await chronology.open_account(child)
    post = worry(child, "family", "They live at 4 Hidden Lane.", post_id="p2")
    pin = _event(
        PostPinned(**_common(child, "family"), post_id="p2", pin="safety_goal", summary="4 Hidden Lane.")
    )
    redaction = _event(PostRedacted(**_common(child, "family"), post_id="p2", reason="names the refuge"))

    await chronology.publish(TOPICS.forum_events, post, pin, redaction)

    summaries = await chronology.summaries(child, who=PARENT, kind="forum")
    assert summaries == ["Redacted by the lead professional: names the refuge"] * 2
    export = await chronology.get(f"/children/{child}/chronology/export.csv", who=PARENT)
    assert (
        export.status_code == 200 and "Hidden Lane" not in export.text and "names the refuge" in export.text
    )


async def test_the_same_forum_event_delivered_twice_changes_nothing(chronology: Chronology) -> None:
    child = new_nhs_number()
    await chronology.open_account(child)
    event = worry(child, "family", "Missed school again.")

    await chronology.publish(TOPICS.forum_events, event, event)

    assert await chronology.summaries(child, kind="forum") == [
        "Worry raised in the forum by a social worker: Missed school again."
    ]


async def test_a_sensitive_services_practitioner_is_never_named_on_the_timeline(
    chronology: Chronology,
) -> None:
    child = new_nhs_number()
    await chronology.open_account(child)
    nurse = Participant(person_id="nurse-1", name="Rae Nurse", kind="practitioner", confidential=True)
    event = _event(
        PostAdded(
            **_common(child, "family", nurse), post_id="p5", tag="worry", kind="concern", body="Clinic."
        )
    )

    await chronology.publish(TOPICS.forum_events, event)

    [summary] = await chronology.summaries(child, who=PARENT, kind="forum")
    assert (
        summary == "Worry raised in the forum by a practitioner from a confidential health service: Clinic."
    )


async def test_the_words_of_a_forum_entry_name_the_family_but_no_practitioner(chronology: Chronology) -> None:
    child = new_nhs_number()
    await chronology.open_account(child)
    teacher = Participant(
        person_id="t-1", name="Ms Kaur", kind="practitioner", role="teacher", agency="school"
    )
    scale = _event(ScaleRecorded(**_common(child, "family", teacher), scale_id="s7", score=4))
    mine = _event(ScaleRecorded(**_common(child, "family", FAMILY_P), scale_id="s8", score=5))

    await chronology.publish(TOPICS.forum_events, scale, mine)

    assert sorted(await chronology.summaries(child, kind="forum")) == [
        "A teacher (school) said how safe the child is now: 4 out of 10.",
        "Jo Parent (family) said how safe the child is now: 5 out of 10.",
    ]
    page = await chronology.get(f"/children/{child}/chronology", kind="forum")
    [entry] = [e for e in page.json()["entries"] if "teacher" in e["summary"]]
    assert entry["author"] == {"name": "Ms Kaur", "role": "teacher"}  # the lead still sees who
