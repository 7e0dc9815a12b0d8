"""No event a service reads takes a control character in text (issue 9, rule 12): every string of every event
type, in the envelope or anywhere in its data, is refused by the decoder its consumers use, with a reason that
names the field (what the dead letter says), so a NUL never reaches FerretDB as an obscure database error.

The fields come from each event's own JSON Schema (shared.schemas, what docs/schemas publishes), so a text
field added to a contract without `Line` or `Prose` (shared.text) fails here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pydantic import ValidationError

from shared.contracts import accounts, audit, chronology, contacts, forum, identity
from shared.schemas import EVENT_SCHEMAS
from shared.topics import DEFAULT
from testsupport.text_fields import CONTROLS, Loc, names, nested, poisoned, refused, texts_in

Decoder = Callable[[str, bytes], Any]


def _decoders() -> dict[str, tuple[str, Decoder]]:
    """Event type → the topic it travels on and the decoder its consumers read it with."""
    found: dict[str, tuple[str, Decoder]] = {
        contacts.CONTACT_RECORDED: (DEFAULT.contact("school"), contacts.decode_contact_event),
        identity.CONTACT_IDENTIFIED: (DEFAULT.identity_events, identity.decode_identity_event),
        chronology.SIGNIFICANCE_MARKED: (DEFAULT.chronology_events, chronology.decode_chronology_event),
        audit.AUDIT_RECORDED: (DEFAULT.audit_events, audit.decode_audit_event),
    }
    found |= dict.fromkeys(accounts.EVENT_TYPES, (DEFAULT.accounts_events, accounts.decode_account_event))
    found |= dict.fromkeys(
        accounts.PERSON_EVENT_TYPES, (DEFAULT.accounts_events, accounts.decode_person_event)
    )
    found |= dict.fromkeys(forum.EVENT_TYPES, (DEFAULT.forum_events, forum.decode_forum_event))
    return found


DECODERS = _decoders()


def _merge(base: Any, extra: Any) -> Any:
    if isinstance(base, dict) and isinstance(extra, dict):
        return {**base, **{k: _merge(base.get(k), v) for k, v in extra.items()}}
    return extra


def _envelope(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "evt-1",
        "type": event_type,
        "version": 1,
        "source": "school" if event_type == contacts.CONTACT_RECORDED else "accounts",
        "subject": "9434765919",
        "time": "2026-03-02T10:00:00Z",
        "data": data,
    }


def _event(event_type: str, loc: Loc, value: str) -> bytes:
    """A well-formed envelope of `event_type` whose data holds only `value`, at `loc`: the other fields'
    absence is refused too, but pydantic reports every field, so the poisoned one is named whatever else."""
    return json.dumps(_merge(_envelope(event_type, {}), nested(loc, value))).encode()


def _places(event_type: str) -> Iterator[tuple[Loc, str, str]]:
    """Every text field of `event_type` (where, the control character, a value holding it)."""
    schema = EVENT_SCHEMAS[(event_type, 1)].model_json_schema()
    for loc, field in texts_in(schema, schema, ()):
        for control in CONTROLS:
            yield loc, control, poisoned(schema, field, control)


def _refusal(event_type: str, loc: Loc, control: str, value: str) -> str | None:
    """Why decoding the poisoned event did not refuse it as it should, or None."""
    topic, decode = DECODERS[event_type]
    try:
        decode(topic, _event(event_type, loc, value))
    except ValidationError as err:
        # The decoders of accounts, the forum and the others validate `data` on its own: its loc starts inside.
        inside = loc[1:] if loc[0] == "data" else loc
        said = [e["msg"] for e in err.errors() if names(e["loc"], loc) or names(e["loc"], inside)]
        if not any(refused(control, msg) or "match pattern" in msg for msg in said):
            return f"not refused for the control character: {err.errors()}"
        if ".".join(map(str, inside)) not in str(err):  # what a dead letter's reason says
            return f"the reason does not name the field: {err}"
        return None
    return "accepted"


def test_every_event_type_a_service_reads_is_walked() -> None:
    assert {event_type for event_type, _ in EVENT_SCHEMAS} == set(DECODERS)
    walked = {(t, loc) for t in DECODERS for loc, _, _ in _places(t)}
    # nested models, arrays of strings and an envelope inside an event are all reached
    assert ("contact.recorded", ("data", "author", "name")) in walked
    assert ("forum.post_added", ("data", "mentions", 0)) in walked
    assert ("contact.identified", ("data", "contact", "data", "summary")) in walked
    assert ("join.requested", ("data", "person", "name")) in walked
    assert ("audit.recorded", ("correlation_id",)) in walked
    assert len(walked) >= 300, f"only {len(walked)} text fields: is the walk still reading the schemas?"


@pytest.mark.parametrize("event_type", sorted(DECODERS))
def test_a_control_character_in_any_text_field_of_an_event_is_refused_naming_the_field(
    event_type: str,
) -> None:
    failures = [
        f"{'.'.join(map(str, loc))} {control!r}: {problem}"
        for loc, control, value in _places(event_type)
        if (problem := _refusal(event_type, loc, control, value)) is not None
    ]
    assert not failures, "\n".join(failures)


def test_tabs_and_line_breaks_stay_in_prose_but_not_in_a_name() -> None:
    """Prose fields of the forum's and accounts' events keep their layout; names and ids refuse it."""
    text = "Seen at home.\r\n\tAll well.\nNext visit in a week."
    post = {
        "child_id": "9434765919",
        "thread_id": "t1",
        "audience": "practitioners",
        "by": {"person_id": "p1", "name": "Ms Patel", "kind": "practitioner"},
        "at": "2026-03-02T10:00:00Z",
        "post_id": "p1",
        "tag": "worry",
        "kind": "observation",
        "body": text,
    }
    event = _envelope(forum.POST_ADDED, post)
    assert forum.decode_forum_event("forum.events", json.dumps(event).encode()).data.body == text  # type: ignore[attr-defined]
    event["data"]["by"]["name"] = "Ms\nPatel"
    with pytest.raises(ValidationError, match=r"(?s)by\.name.*U\+000A"):
        forum.decode_forum_event("forum.events", json.dumps(event).encode())
