import json
from typing import Any

import pytest
from pydantic import ValidationError

from shared.contracts.contacts import decode_contact_event


def contact(**data: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "agency": "school",
        "author": {"name": "Ms Patel", "role": "Designated safeguarding lead"},
        "child": {"nhs_number": "9434765919"},
        "occurred_at": "2026-03-02T09:15:00Z",
        "contact_type": "school_attendance_concern",
        "summary": "Absent three days without explanation.",
        "impact": "negative",
    }
    body.update(data)
    return {
        "id": "evt-1",
        "type": "contact.recorded",
        "version": 1,
        "source": body["agency"],
        "subject": "9434765919",
        "time": "2026-03-02T10:00:00Z",
        "data": body,
    }


def encode(event: dict[str, Any]) -> bytes:
    return json.dumps(event).encode()


def test_a_documented_contact_event_is_accepted_and_defaults_to_restricted() -> None:
    event = decode_contact_event("contacts.school", encode(contact()))
    assert event.data.visibility == "restricted"
    assert event.data.child.nhs_number == "9434765919"


def test_an_event_on_another_agencys_topic_is_refused() -> None:
    with pytest.raises(ValueError, match="agency mismatch"):
        decode_contact_event("contacts.police", encode(contact()))


def test_a_bad_nhs_number_is_refused_with_the_reason() -> None:
    with pytest.raises(ValidationError, match="check digit"):
        decode_contact_event("contacts.school", encode(contact(child={"nhs_number": "9434765918"})))


def test_a_child_without_nhs_number_needs_name_birth_date_and_postcode() -> None:
    with pytest.raises(ValidationError, match="given_name, family_name"):
        decode_contact_event("contacts.school", encode(contact(child={"family_name": "Smith"})))
    ok = {"given_name": "Amy", "family_name": "Smith", "date_of_birth": "2015-04-01", "postcode": "LS1 4AB"}
    assert decode_contact_event("contacts.school", encode(contact(child=ok))).data.child.postcode == "LS1 4AB"


def test_missing_author_unknown_type_and_naive_time_are_refused() -> None:
    no_author = contact()
    del no_author["data"]["author"]
    with pytest.raises(ValidationError, match="author"):
        decode_contact_event("contacts.school", encode(no_author))
    with pytest.raises(ValidationError, match="contact_type"):
        decode_contact_event("contacts.school", encode(contact(contact_type="tea_party")))
    with pytest.raises(ValidationError, match="UTC offset"):
        decode_contact_event("contacts.school", encode(contact(occurred_at="2026-03-02T09:15:00")))


def test_an_unknown_event_type_or_version_is_refused() -> None:
    wrong_type = contact()
    wrong_type["type"] = "contact.deleted"
    with pytest.raises(ValueError, match="unknown event type"):
        decode_contact_event("contacts.school", encode(wrong_type))
    wrong_version = contact()
    wrong_version["version"] = 2
    with pytest.raises(ValueError, match="unsupported version"):
        decode_contact_event("contacts.school", encode(wrong_version))


def test_malformed_json_is_refused() -> None:
    with pytest.raises(ValidationError):
        decode_contact_event("contacts.school", b"{not json")


def test_an_envelope_whose_subject_names_another_child_than_the_data_is_refused() -> None:
    event = contact()
    event["subject"] = "4010232137"  # a valid NHS number, but not the one in data.child
    with pytest.raises(ValueError, match="child mismatch: subject '4010232137'"):
        decode_contact_event("contacts.school", encode(event))
    event["subject"] = "943 476 5919"  # the same number as people write it is the same child
    assert decode_contact_event("contacts.school", encode(event)).data.child.nhs_number == "9434765919"


@pytest.mark.parametrize(
    ("field", "data"),
    [
        ("data.summary", {"summary": "Absent\x00 three days."}),
        ("data.author.name", {"author": {"name": "Ms\x1bPatel", "role": "DSL"}}),
        ("data.action_taken", {"action_taken": "Called\x7f mother."}),
        ("data.supersedes", {"supersedes": "evt\x00-0"}),
    ],
)
def test_a_control_character_is_refused_with_the_field_it_is_in(field: str, data: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as refused:
        decode_contact_event("contacts.school", encode(contact(**data)))
    assert field in str(refused.value) and "control character" in str(refused.value)


def test_prose_keeps_its_tabs_and_line_breaks_but_a_name_does_not() -> None:
    text = "Visited.\r\n\tChild well.\nNext visit in a week."
    assert decode_contact_event("contacts.school", encode(contact(summary=text))).data.summary == text
    with pytest.raises(ValidationError, match=r"data\.author\.role"):
        decode_contact_event("contacts.school", encode(contact(author={"name": "A", "role": "D\nSL"})))


def test_a_control_character_in_the_envelope_is_refused_with_the_field() -> None:
    event = contact()
    event["id"] = "evt\x00-1"
    with pytest.raises(ValidationError, match=r"(?s)\bid\b.*U\+0000"):
        decode_contact_event("contacts.school", encode(event))
