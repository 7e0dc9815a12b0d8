"""Accounts' stripped text refuses what is empty once stripped, and control characters too: pydantic counts a
constraint placed after a validator before it strips, so `Annotated[Prose, StringConstraints(strip...,
min_length=3)]` took a reason of spaces as "" (shared.text)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from accounts.children.schemas import ChildCreate, FlagsUpdate
from accounts.people.schemas import PersonCreate, StatusChange
from accounts.teams.schemas import JoinAsk

CHILD = {"given_name": "Amy", "family_name": "Example", "date_of_birth": "2014-05-14"}
CASES: list[tuple[type[BaseModel], dict[str, Any], str]] = [
    (ChildCreate, CHILD, "given_name"),
    (ChildCreate, CHILD, "family_name"),
    (FlagsUpdate, {"shielded": True, "sensitive_service": False, "reason": "moved to a refuge"}, "reason"),
    (StatusChange, {"reason": "left the agency"}, "reason"),
    (PersonCreate, {"username": "kerry.x", "name": "Kerry X", "kind": "family"}, "name"),
    (JoinAsk, {"reason": "her school's safeguarding lead"}, "reason"),
]


@pytest.mark.parametrize(("model", "body", "field"), CASES, ids=lambda c: getattr(c, "__name__", str(c)))
def test_stripped_text_is_refused_when_empty_or_holding_a_control_character(
    model: type[BaseModel], body: dict[str, Any], field: str
) -> None:
    kept = model.model_validate({**body, field: f"  {body[field]}  "})
    assert getattr(kept, field) == body[field]  # stripped, kept
    for bad in ("     ", f"{body[field]}\x00"):
        with pytest.raises(ValidationError) as refused:
            model.model_validate({**body, field: bad})
        assert refused.value.errors()[0]["loc"] == (field,)
