"""Forum posts in the keyword cloud: each post is one document, whose words its latest version gives and a
redaction takes out.

A post's document is keyed by its post id and carries the version it was built from (1 when added, the edit's
version after an edit, `REDACTED` once redacted), so applying a change is "keep the higher version": an event
delivered twice, or a batch replayed after part of it was written, writes nothing new, and replaying the topic
into an empty store ends with the same documents. Only family-audience posts reach the family cloud: their
`visibility` is the one the cloud's views already filter on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from shared.contracts.contacts import Visibility
from shared.contracts.forum import ForumEvent, PostAdded, PostEdited, PostRedacted
from shared.events import Envelope

KIND = "post"
FORUM = "forum"  # what a post's entry names as its source, where a contact names its agency
REDACTED = 1_000_000  # above any edit's version: nothing written after a redaction brings words back


def post_key(post_id: str) -> str:
    """A post's document id; "forum-post:" cannot be an agency's `<agency>:<event id>` key."""
    return f"forum-post:{post_id}"


@dataclass(frozen=True)
class PostChange:
    """The latest state of one post that a batch says: its words (empty once redacted) at a version."""

    key: str
    child_id: str
    event: ForumEvent
    version: int
    body: str

    @property
    def redacted(self) -> bool:
        return self.version >= REDACTED


def latest_changes(events: Sequence[Envelope[ForumEvent]]) -> list[PostChange]:
    """Each post's latest state in the batch, in the order the posts first appear; events that carry no
    post words (threads, pins, scales, mentions) are not the cloud's."""
    latest: dict[str, PostChange] = {}
    for envelope in events:
        data = envelope.data
        match data:
            case PostAdded():
                version, body = 1, data.body
            case PostEdited():
                version, body = data.version, data.body
            case PostRedacted():
                version, body = REDACTED, ""
            case _:
                continue
        key = post_key(data.post_id)
        kept = latest.get(key)
        if kept is None or version > kept.version:
            latest[key] = PostChange(key, data.child_id, data, version, body)
    return list(latest.values())


def post_document(change: PostChange, terms: Sequence[tuple[str, float]]) -> dict[str, Any]:
    """The post's document as the cloud keeps it; `occurred_at` is when that version was written."""
    data = change.event
    visibility: Visibility = "family_visible" if data.audience == "family" else "restricted"
    return {
        "child_id": change.child_id,
        "kind": KIND,
        "agency": FORUM,
        "thread_id": data.thread_id,
        "post_id": getattr(data, "post_id", None),
        "occurred_at": data.at,
        "visibility": visibility,
        "sensitive_service": data.by.confidential,
        "supersedes": None,
        "version": change.version,
        "redacted": change.redacted,
        "terms": [term for term, _ in terms],
        "scores": [score for _, score in terms],
    }
