"""The one table from accounts' domain errors to HTTP statuses (no route builds an HTTPException)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from accounts.children.service import AlreadyRegistered
from accounts.errors import (
    STATUSES,
    AccessDenied,
    AuditUnavailable,
    Conflict,
    DomainError,
    Invalid,
    NotFound,
    TooManyRequests,
)
from accounts.identity.models import AlreadyResolved, UnknownChild
from accounts.people.keys import KeysNotReady
from accounts.people.signin import RefreshRefused, SignInFailed
from accounts.people.store import PersonBusy, UsernameTaken
from shared.errors import install_error_statuses
from shared.policy import Decision

CASES: list[tuple[DomainError, int]] = [
    (AccessDenied(Decision(allowed=False, reason="not in the team", relationship="none")), 403),
    (NotFound("no such child"), 404),
    (UnknownChild("no such child"), 404),
    (Conflict("already a member"), 409),
    (AlreadyResolved("resolved already"), 409),
    (Invalid("bad NHS number"), 422),
    (SignInFailed("wrong"), 401),
    (RefreshRefused("sign in again"), 401),
    (UsernameTaken("taken"), 409),
    (PersonBusy("a moment"), 503),
    (TooManyRequests("slow down", retry_after_s=5), 429),
    (KeysNotReady("not yet"), 503),
    (AuditUnavailable("cannot record"), 503),
    (DomainError("anything else"), 400),
]


def _answer(err: DomainError) -> tuple[int, object]:
    app = FastAPI()
    install_error_statuses(app, STATUSES)  # as the app builder does with it

    @app.get("/")
    async def fail() -> None:
        raise err

    response = TestClient(app).get("/")
    return response.status_code, response.json()


@pytest.mark.parametrize(
    ("err", "status"), CASES, ids=lambda c: type(c).__name__ if isinstance(c, Exception) else ""
)
def test_each_domain_error_answers_with_its_status_and_reason(err: DomainError, status: int) -> None:
    assert _answer(err) == (status, {"detail": str(err)})


def test_a_child_already_registered_says_which_child() -> None:
    assert _answer(AlreadyRegistered("9434765919")) == (
        409,
        {
            "detail": "this child already has an account: ask to join the team instead",
            "child_id": "9434765919",
        },
    )
