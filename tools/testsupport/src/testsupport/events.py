"""Events as producers send them, for tests of the services that consume them: agency contacts and the
account history of a child (opened by a lead, a parent linked), and the forum's posts, mentions and redactions."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from typing import Any

from shared.contact_feed import ChildContact
from shared.contracts.accounts import (
    AccountEvent,
    Actor,
    ChildRegistered,
    FamilyLinked,
    PersonRef,
    account_event,
)
from shared.contracts.contacts import CONTACT_RECORDED, ContactRecorded, entry_key
from shared.contracts.forum import (
    MEMBER_MENTIONED,
    POST_ADDED,
    POST_REDACTED,
    Audience,
    MemberMentioned,
    Participant,
    PostAdded,
    PostRedacted,
    Tag,
)
from shared.events import Envelope, make_event
from shared.identity import with_check_digit

_numbers = itertools.count(100_000_000)


def new_nhs_number() -> str:
    """A valid NHS number not used before in this test session."""
    while True:
        number = with_check_digit(str(next(_numbers)))
        if number:
            return number


def contact_event(
    nhs_number: str,
    *,
    agency: str = "school",
    occurred_at: datetime = datetime(2026, 3, 2, 9, 15, tzinfo=UTC),
    summary: str = "Home visit; child well.",
    contact_type: str = "home_visit",
    visibility: str = "family_visible",
    event_id: str | None = None,
    **data: Any,
) -> Envelope[ContactRecorded]:
    """What agency `agency` publishes about one contact with the child (more `data` fields as given)."""
    contact = ContactRecorded.model_validate(
        {
            "agency": agency,
            "author": {"name": "Ms Patel", "role": "Designated safeguarding lead"},
            "child": {"nhs_number": nhs_number},
            "occurred_at": occurred_at,
            "contact_type": contact_type,
            "summary": summary,
            "impact": "neutral",
            "visibility": visibility,
            **data,
        }
    )
    return make_event(
        type=CONTACT_RECORDED, source=agency, subject=nhs_number, data=contact, event_id=event_id
    )


def entry_id_of(event: Envelope[ContactRecorded]) -> str:
    """The id of the entry (or graph point) a read model keeps for this contact."""
    return entry_key(event.data.agency, event.id)


def child_contact(event: Envelope[ContactRecorded]) -> ChildContact:
    """The contact as the contact feed hands it on: about the child its NHS number names."""
    return ChildContact(event.subject, event)


def person(person_id: str, *, agency: str = "socialcare", sensitive: bool = False) -> PersonRef:
    return PersonRef(
        person_id=person_id,
        name=f"Test {person_id}",
        kind="practitioner",
        agency=agency,
        role="Social worker",
        sensitive_service=sensitive,
    )


def account_opened(
    child_id: str,
    *,
    lead_id: str,
    family_id: str | None = None,
    at: datetime | None = None,
    shielded: bool = False,
) -> list[Envelope[AccountEvent]]:
    """What accounts publishes when a lead opens a child's account (and, if given, links a parent)."""
    when = at or datetime.now(UTC)
    actor = Actor(person_id=lead_id, name=f"Test {lead_id}", kind="practitioner")
    events: list[AccountEvent] = [
        ChildRegistered(
            child_id=child_id,
            seq=1,
            actor=actor,
            at=when,
            nhs_number=child_id,
            given_name="Test",
            family_name="Child",
            date_of_birth=date(2016, 5, 4),
            lead=person(lead_id),
            shielded=shielded,
        )
    ]
    if family_id:
        events.append(
            FamilyLinked(
                child_id=child_id,
                seq=2,
                actor=actor,
                at=when,
                person_id=family_id,
                name="Test parent",
                relationship="parent",
            )
        )
    return [account_event(e) for e in events]


def participant(person_id: str, *, agency: str | None = "socialcare", family: bool = False) -> Participant:
    """Someone writing in the forum: a practitioner of `agency`, or (`family`) a parent."""
    if family:
        return Participant(person_id=person_id, name=f"Test {person_id}", kind="family", role="parent")
    return Participant(
        person_id=person_id, name=f"Test {person_id}", kind="practitioner", agency=agency, role="Worker"
    )


def forum_post(
    child_id: str,
    by: Participant,
    *,
    audience: Audience = "practitioners",
    tag: Tag = "worry",
    body: str = "Bruises seen again on Monday.",
    post_id: str | None = None,
    at: datetime | None = None,
) -> Envelope[PostAdded]:
    """What the forum publishes when `by` posts in one of the child's threads."""
    post = PostAdded(
        child_id=child_id,
        thread_id="th-1",
        audience=audience,
        by=by,
        at=at or datetime.now(UTC),
        post_id=post_id or f"p-{next(_numbers)}",
        tag=tag,
        kind="concern",
        body=body,
    )
    return make_event(type=POST_ADDED, source="forum", subject=child_id, data=post)


def forum_mention(
    post: Envelope[PostAdded], person_id: str, *, audience: Audience | None = None
) -> Envelope[MemberMentioned]:
    """The forum's event naming `person_id` in `post` (in the post's thread, unless `audience` says)."""
    data = post.data
    mention = MemberMentioned(
        child_id=data.child_id,
        thread_id=data.thread_id,
        audience=audience or data.audience,
        by=data.by,
        at=data.at,
        post_id=data.post_id,
        person_id=person_id,
        name=f"Test {person_id}",
    )
    return make_event(type=MEMBER_MENTIONED, source="forum", subject=data.child_id, data=mention)


def forum_redaction(post: Envelope[PostAdded], by: Participant) -> Envelope[PostRedacted]:
    """The lead takes `post`'s words out of every view."""
    data = post.data
    redacted = PostRedacted(
        child_id=data.child_id,
        thread_id=data.thread_id,
        audience=data.audience,
        by=by,
        at=datetime.now(UTC),
        post_id=data.post_id,
        reason="Named a third party",
    )
    return make_event(type=POST_REDACTED, source="forum", subject=data.child_id, data=redacted)
