"""What the forum says about a child that belongs on the chronology (BRIEF §3, issue 11): worries raised,
danger statements and safety goals pinned by the lead, and safety scales, each with its thread's audience as
its visibility; and redactions, which take a post's words out of every entry made from it (and so out of the
exports, which read the same entries).

Entries are keyed by the forum event's id, so a redelivered event is the same entry; a redaction is an update
that sets the same values every time it is applied.
"""

from __future__ import annotations

from typing import Any

from chronology.models import HIDDEN_PROVIDER, by_role
from shared.contracts.contacts import Visibility
from shared.contracts.forum import ForumEvent, PostAdded, PostPinned, PostRedacted, ScaleRecorded
from shared.events import Envelope

FORUM_SOURCE = "safeguarding forum"
EXCERPT = 300
PIN_TITLES = {"danger_statement": "Danger statement", "safety_goal": "Safety goal"}


def redacted_summary(reason: str) -> str:
    return f"Redacted by the lead professional: {reason}"


def _excerpt(body: str) -> str:
    words = " ".join(body.split())
    return words if len(words) <= EXCERPT else words[: EXCERPT - 1].rstrip() + "…"


def _summary(data: ForumEvent) -> tuple[str | None, bool]:
    """The entry's words and whether it is significant; None when the event is not for the chronology."""
    # As in models._who, the words never name a practitioner: a sensitive service's is not to be identified
    # at all, and for a shielded child a name leads to the school or surgery near the child. The entry's
    # author names them, to the readers who may know (service._as_seen). The family's own names stay.
    by = data.by
    if by.family:
        who = f"{by.name} (family)"
    elif by.confidential:
        who = f"a practitioner from {HIDDEN_PROVIDER}"
    else:
        who = by_role(by.role, by.agency)
    match data:
        case PostAdded(tag="worry"):
            return f"Worry raised in the forum by {who}: {_excerpt(data.body)}", False
        case PostPinned(pin=str() as pin):
            return f"{PIN_TITLES[pin]}, pinned by {who}: {_excerpt(data.summary)}", True
        case ScaleRecorded():
            comment = f" {_excerpt(data.comment)}" if data.comment else ""
            said = who[:1].upper() + who[1:]
            return f"{said} said how safe the child is now: {data.score} out of 10.{comment}", False
    return None, False


def forum_entry_document(event: Envelope[ForumEvent]) -> dict[str, Any] | None:
    """The chronology entry for a forum event that belongs on it, or None."""
    data = event.data
    summary, significant = _summary(data)
    if summary is None:
        return None
    visibility: Visibility = "family_visible" if data.audience == "family" else "restricted"
    return {
        "_id": event.id,
        "child_id": data.child_id,
        "kind": "forum",
        "agency": FORUM_SOURCE,
        "author": {"name": data.by.name, "role": data.by.role or data.by.kind},
        "occurred_at": data.at,
        "period_end": None,
        "date_uncertain": False,
        "day": data.at.date().isoformat(),
        "contact_type": "other",
        "summary": summary,
        "impact": "negative" if isinstance(data, PostAdded) else "neutral",
        "action_taken": None,
        "outcome": None,
        "significant": significant,
        "rag": None,
        "visibility": visibility,
        "sensitive_service": data.by.confidential,
        "recorded_at": event.time,
        "supersedes": None,
        "forum_post_id": getattr(data, "post_id", None),
    }


def redactions(events: list[Envelope[ForumEvent]]) -> list[PostRedacted]:
    return [e.data for e in events if isinstance(e.data, PostRedacted)]
