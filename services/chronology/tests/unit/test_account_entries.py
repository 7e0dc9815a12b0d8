"""Account events on the timeline: break-glass is shown to the lead and the team, never to the family."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chronology.models import account_entry_document
from shared.contracts.accounts import Actor, BreakGlassUsed, PersonRef, account_event

NOW = datetime(2026, 11, 30, 22, 15, tzinfo=UTC)
OFFICER = PersonRef(
    person_id="p-officer", name="Pat Officer", kind="practitioner", agency="police", role="PC"
)


def test_a_break_glass_use_is_on_the_timeline_for_the_team_with_its_purpose_and_reason() -> None:
    used = BreakGlassUsed(
        child_id="c-1",
        seq=7,
        actor=Actor(person_id="p-officer", name="Pat Officer", kind="practitioner", agency="police"),
        at=NOW,
        grant_id="g-1",
        person=OFFICER,
        reason="reported missing tonight, need known contacts",
        expires_at=NOW + timedelta(minutes=30),
        lead_id="p-lead",
        purpose="missing_child",
        previous_uses=2,
    )
    entry = account_entry_document(account_event(used))
    assert entry is not None
    assert entry["visibility"] == "restricted"  # the family never sees it
    # who used it is the entry's author, shown as the reader's decision allows; the summary names no one
    assert entry["author"]["name"] == "Pat Officer" and "Pat Officer" not in entry["summary"]
    assert "a PC (police)" in entry["summary"] and "missing child" in entry["summary"]
    assert "reported missing tonight" in entry["summary"] and "2 time(s) before" in entry["summary"]
    assert "22:45 UTC" in entry["summary"]
