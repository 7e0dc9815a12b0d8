"""Accounts' domain errors, and the one place that turns them into HTTP statuses.

Use cases raise these; `install_error_handlers` (called by `app.create_app`) answers each with its status and
the reason as `detail`, so no route builds an `HTTPException`.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request, Response, status
from fastapi.responses import JSONResponse

from shared.policy import Decision


class DomainError(Exception):
    """A request that the rules refuse; the message is for the person who made it."""

    def body(self) -> dict[str, Any]:
        """The JSON answer: the reason, and whatever a subclass adds for the client to act on."""
        return {"detail": str(self)}


class NotFound(DomainError):
    pass


class Conflict(DomainError):
    """The request does not fit the account's current state (already a member, no longer pending, ...)."""


class Invalid(DomainError):
    pass


class AccessDenied(DomainError):
    """The policy said no; `decision.reason` says why."""

    def __init__(self, decision: Decision) -> None:
        super().__init__(decision.reason)
        self.decision = decision


class Unauthenticated(DomainError):
    """Who is asking could not be established (a wrong password, say)."""


class Unavailable(DomainError):
    """Something the request needs is not ready or not reachable; trying again later may work."""


class AuditUnavailable(Unavailable):
    """The access could not be recorded, so it is not served (every view is logged, BRIEF §3)."""


# The first class an error is an instance of decides its status.
_STATUSES: tuple[tuple[type[DomainError], int], ...] = (
    (AccessDenied, status.HTTP_403_FORBIDDEN),
    (NotFound, status.HTTP_404_NOT_FOUND),
    (Conflict, status.HTTP_409_CONFLICT),
    (Invalid, status.HTTP_422_UNPROCESSABLE_CONTENT),
    (Unauthenticated, status.HTTP_401_UNAUTHORIZED),
    (Unavailable, status.HTTP_503_SERVICE_UNAVAILABLE),
)


def status_of(err: DomainError) -> int:
    return next((code for kind, code in _STATUSES if isinstance(err, kind)), status.HTTP_400_BAD_REQUEST)


def install_error_handlers(app: FastAPI) -> None:
    """Domain errors become status codes with the reason as `detail`."""

    async def on_domain_error(_: Request, err: Exception) -> Response:
        assert isinstance(err, DomainError)
        return JSONResponse(err.body(), status_code=status_of(err))

    app.add_exception_handler(DomainError, on_domain_error)
