"""Forum events as the forum publishes them, and a team member joining, for tests of the services that
consume `forum.events`."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from shared.contracts.accounts import AccountEvent, Actor, JoinApproved, JoinRequested, account_event
from shared.contracts.forum import (
    TYPE_OF,
    ForumEvent,
    Participant,
    PostAdded,
    PostEdited,
    PostRedacted,
    ScaleRecorded,
)
from shared.events import Envelope, make_event
from shared.policy import PrincipalKind
from testsupport.events import person

_ids = itertools.count(1)


def participant(
    person_id: str, *, kind: PrincipalKind = "practitioner", agency: str | None = "socialcare", **more: Any
) -> Participant:
    """A participant named as the account events in `testsupport.events` name people: "Test <id>"."""
    fields: dict[str, Any] = {"name": f"Test {person_id}", "kind": kind, "agency": agency, **more}
    return Participant(person_id=person_id, **fields)


def forum_event(data: ForumEvent) -> Envelope[ForumEvent]:
    return make_event(type=TYPE_OF[type(data)], source="forum", subject=data.child_id, data=data)


def post_added(
    child_id: str, body: str, *, by: Participant, audience: str = "family", post_id: str | None = None
) -> Envelope[ForumEvent]:
    return forum_event(
        PostAdded.model_validate(
            {
                "child_id": child_id,
                "thread_id": f"thread-{audience}",
                "audience": audience,
                "by": by,
                "at": datetime.now(UTC),
                "post_id": post_id or f"post-{next(_ids)}",
                "tag": "worry",
                "kind": "concern",
                "body": body,
            }
        )
    )


def post_edited(added: Envelope[ForumEvent], body: str, *, version: int = 2) -> Envelope[ForumEvent]:
    a = added.data
    assert isinstance(a, PostAdded)
    common = a.model_dump(include={"child_id", "thread_id", "audience", "by", "post_id"})
    return forum_event(PostEdited(**common, at=datetime.now(UTC), version=version, body=body))


def post_redacted(added: Envelope[ForumEvent], reason: str = "names a third party") -> Envelope[ForumEvent]:
    a = added.data
    assert isinstance(a, PostAdded)
    common = a.model_dump(include={"child_id", "thread_id", "audience", "post_id"})
    lead = participant("lead-1")
    return forum_event(PostRedacted(**common, by=lead, at=datetime.now(UTC), reason=reason))


def scale_recorded(
    child_id: str, score: int, *, by: Participant, audience: str = "family", at: datetime | None = None
) -> Envelope[ForumEvent]:
    return forum_event(
        ScaleRecorded.model_validate(
            {
                "child_id": child_id,
                "thread_id": f"thread-{audience}",
                "audience": audience,
                "by": by,
                "at": at or datetime.now(UTC),
                "scale_id": f"scale-{next(_ids)}",
                "score": score,
            }
        )
    )


def member_joined(
    child_id: str, person_id: str, *, seq: int = 3, sensitive: bool = False, agency: str = "socialcare"
) -> list[Envelope[AccountEvent]]:
    """An ordinary team member who asked and was approved by the lead ("lead-1"): two events, `seq` and
    `seq + 1`."""
    actor = Actor(person_id="lead-1", name="Test lead-1", kind="practitioner")
    who = person(person_id, agency=agency, sensitive=sensitive)
    now = datetime.now(UTC)
    common: dict[str, Any] = {"child_id": child_id, "actor": actor, "at": now, "request_id": f"r-{person_id}"}
    return [
        account_event(JoinRequested(**common, seq=seq, person=who, reason="I work with the child")),
        account_event(JoinApproved(**common, seq=seq + 1, person=who)),
    ]
