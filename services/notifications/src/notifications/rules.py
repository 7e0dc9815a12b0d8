"""The rules: each turns one kind of event, and the child's access snapshot, into an alert (or none).

Pure: no I/O, no clock. A rule names who is told from the snapshot as it stands when the event is handled —
the team *is* the subscription list (members from joining until they leave, the lead, whoever the policy lets
approve a join) — and the delivery checks access again, so someone who left since is told nothing more
(`notifications.delivery`). Rules that need memory (someone new opening the record, the cross-agency pattern)
take what they need as arguments; their state lives in the store.

Forum rules carry the thread's audience into the alert: a practitioner-only thread's alert is `restricted`, so
it never reaches a family view, whoever it was addressed to. No rule copies a post's words into an alert (a
notification says the kind, the child's initials and a link), so a post redacted later leaves nothing behind.
"""

from __future__ import annotations

from datetime import UTC, datetime

from notifications.models import Alert, Recipient, alert_for
from shared.contact_feed import ChildContact
from shared.contracts.accounts import BreakGlassUsed, JoinRequested
from shared.contracts.audit import AuditRecorded
from shared.contracts.chronology import SignificanceMarked
from shared.contracts.forum import MemberMentioned, PostAdded
from shared.policy import READ_ACTIONS, ChildAccess, Principal, decide


def team(access: ChildAccess) -> list[Recipient]:
    """Everyone on the child's team now: approved members, the lead among them (never the family)."""
    return [Recipient.of(m) for m in access.members]


def lead(access: ChildAccess) -> list[Recipient]:
    member = access.member(access.lead_id) if access.lead_id else None
    if member is not None:
        return [Recipient.of(member)]
    return [Recipient(access.lead_id)] if access.lead_id else []


def managers(access: ChildAccess) -> list[Recipient]:
    """The team's managers: members whose kind is manager."""
    return [Recipient.of(m) for m in access.members if m.kind == "manager"]


def approvers(access: ChildAccess, *, now: datetime) -> list[Recipient]:
    """Whoever on the team the shared policy lets approve a join request now."""

    def may_approve(r: Recipient) -> bool:
        who = Principal(subject=r.person_id, name=r.person_id, kind=r.kind, agency=r.agency, role=r.role)
        return decide(who, "approve_join", access, now=now).allowed

    return [r for r in team(access) if may_approve(r)]


def join_requested(event: JoinRequested, access: ChildAccess, *, event_id: str) -> Alert | None:
    """A request to join the team → whoever can approve it."""
    return alert_for(
        access,
        event_id=event_id,
        kind="join_requested",
        at=event.at,
        recipients=approvers(access, now=event.at),
        exclude=event.person.person_id,
        action="approve_join",
        path="/requests",
    )


def break_glass_used(event: BreakGlassUsed, access: ChildAccess, *, event_id: str) -> Alert | None:
    """Break-glass access → the lead professional, at once, on every channel they have."""
    to = lead(access)
    if not to and event.lead_id:
        to = [Recipient(event.lead_id)]
    return alert_for(
        access,
        event_id=event_id,
        kind="break_glass_used",
        at=event.at,
        recipients=to,
        exclude=event.person.person_id,
        urgent=True,
        path=f"/children/{access.child_id}/viewers",
    )


def significance_marked(mark: SignificanceMarked, access: ChildAccess, *, event_id: str) -> Alert | None:
    """An entry marked significant on the chronology → the team (unmarking tells nobody)."""
    if not mark.significant:
        return None
    return alert_for(
        access,
        event_id=event_id,
        kind="significance_marked",
        at=mark.at,
        recipients=team(access),
        exclude=mark.by_person_id,
        action="read_chronology",
        path=f"/children/{access.child_id}",
    )


def significant_contact(contact: ChildContact, access: ChildAccess) -> Alert | None:
    """An agency's significant contact → the team; one the family may not see never reaches a family view."""
    data = contact.event.data
    if not data.significant or data.supersedes:
        return None
    return alert_for(
        access,
        event_id=f"contact:{contact.key}",
        kind="significant_contact",
        at=data.occurred_at,
        recipients=team(access),
        action="read_chronology",
        restricted=data.visibility == "restricted",
        path=f"/children/{access.child_id}",
    )


def record_opened(
    audit: AuditRecorded, access: ChildAccess, *, event_id: str, first_view: bool
) -> Alert | None:
    """The child's record opened (an allowed read) by someone who never opened it before → the lead."""
    if not first_view or not is_a_view(audit) or audit.actor_id == access.lead_id:
        return None
    return alert_for(
        access,
        event_id=event_id,
        kind="record_opened",
        at=audit.at,
        recipients=lead(access),
        exclude=audit.actor_id,
        action="read_viewers",
        path=f"/children/{access.child_id}/viewers",
    )


def is_a_view(audit: AuditRecorded) -> bool:
    """An allowed read of the child's record by a person (not an auditor reading the log)."""
    return (
        audit.allowed
        and audit.child_id is not None
        and audit.action in READ_ACTIONS
        and audit.actor_kind in ("practitioner", "manager", "family")
    )


def cross_agency_pattern(
    access: ChildAccess, *, event_id: str, agencies: int, at: datetime | None = None
) -> Alert | None:
    """Worries or significant contacts from `agencies` different agencies within the window → the lead and
    the team's managers. The count decides nothing here: `notifications.pattern` fires this once."""
    return alert_for(
        access,
        event_id=event_id,
        kind="cross_agency_pattern",
        at=at or datetime.now(UTC),
        recipients=lead(access) + managers(access),
        action="read_chronology",
        path=f"/children/{access.child_id}",
        extra={"agencies": str(agencies)},
    )


def forum_worry(post: PostAdded, access: ChildAccess, *, event_id: str) -> Alert | None:
    """A new worry in the child's forum → the team, never its author; from a practitioner-only thread it is
    restricted (no family view ever shows it)."""
    if post.tag != "worry":
        return None
    return alert_for(
        access,
        event_id=event_id,
        kind="forum_worry",
        at=post.at,
        recipients=team(access),
        exclude=post.by.person_id,
        action="read_forum",
        restricted=post.audience == "practitioners",
        path=f"/children/{access.child_id}#forum",
    )


def forum_mention(mention: MemberMentioned, access: ChildAccess, *, event_id: str) -> Alert | None:
    """Someone named in a post → that person, if they can read the thread: a team member, or family in a
    thread shared with the family. Delivery checks the thread's audience and the child's access again."""
    member = access.member(mention.person_id)
    if member is not None:
        to = [Recipient.of(member)]
    elif mention.audience == "family" and access.family_link(mention.person_id) is not None:
        to = [Recipient(mention.person_id, kind="family")]
    else:
        return None
    return alert_for(
        access,
        event_id=event_id,
        kind="forum_mention",
        at=mention.at,
        recipients=to,
        exclude=mention.by.person_id,
        action="read_forum",
        restricted=mention.audience == "practitioners",
        path=f"/children/{access.child_id}#forum",
    )


def worry_signal_agency(post: PostAdded) -> str | None:
    """The agency a worry counts for in the cross-agency pattern: its practitioner's; a family member's
    worry, or one by someone with no agency, counts for none."""
    if post.tag != "worry" or post.by.kind not in ("practitioner", "manager"):
        return None
    return post.by.agency or None
