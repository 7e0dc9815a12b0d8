"""Accounts' domain errors, and the one place that turns them into HTTP statuses.

Use cases raise these; `STATUSES` (with the shared errors' statuses) is the table `app.create_app` hands to
the app builder, which answers each error with its status and `body()`, so no route builds an
`HTTPException`. An error answers with the status of the nearest class listed.
"""

from __future__ import annotations

from fastapi import status

from shared.errors import SHARED_STATUSES, ErrorStatuses, ServiceError
from shared.policy import Decision


class DomainError(ServiceError):
    """A request that the rules refuse; the message is for the person who made it."""


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


class TooManyRequests(DomainError):
    """Too many attempts in a short time; the answer's Retry-After says when to try again."""

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message)
        self.headers = {"Retry-After": str(retry_after_s)}


STATUSES: ErrorStatuses = {
    **SHARED_STATUSES,
    DomainError: status.HTTP_400_BAD_REQUEST,
    AccessDenied: status.HTTP_403_FORBIDDEN,
    NotFound: status.HTTP_404_NOT_FOUND,
    Conflict: status.HTTP_409_CONFLICT,
    Invalid: status.HTTP_422_UNPROCESSABLE_CONTENT,
    Unauthenticated: status.HTTP_401_UNAUTHORIZED,
    Unavailable: status.HTTP_503_SERVICE_UNAVAILABLE,
    TooManyRequests: status.HTTP_429_TOO_MANY_REQUESTS,
}
