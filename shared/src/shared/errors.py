"""Errors that shared code raises, and the one way a service turns errors into HTTP answers.

`shared/` never raises `HTTPException`: it raises these, and each service lists in its own `errors.py` which
status every error it can meet maps to (the shared ones below plus its own domain errors); `build_app` installs
that table as exception handlers. So one file per service says what a caller sees when something is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fastapi import FastAPI, Request, Response, status
from fastapi.responses import JSONResponse
from pymongo.errors import ConnectionFailure, ExecutionTimeout

from shared.overload import RETRY_AFTER_S


class ServiceError(Exception):
    """An error with a message meant for the caller; `headers` go on the HTTP answer."""

    headers: Mapping[str, str] | None = None

    def body(self) -> dict[str, Any]:
        """The JSON answer: the reason, and whatever a subclass adds for the client to act on."""
        return {"detail": str(self)}


class NotAuthenticated(ServiceError):
    """No token, or a token that is not valid here."""

    def __init__(self, message: str, *, challenge: str | None = None) -> None:
        super().__init__(message)
        self.headers = {"WWW-Authenticate": challenge or "Bearer"}


class SignInUnavailable(ServiceError):
    """Tokens cannot be checked right now (the signing keys are unreachable)."""


class AccessRefused(ServiceError):
    """The access policy said no; the message is the policy's reason."""


class AccessUnavailable(ServiceError):
    """This service cannot tell right now who may see the child (its access snapshot awaits a rebuild)."""


class AuditUnavailable(ServiceError):
    """The access could not be recorded in the audit log, so it is not served (fail closed)."""


class InvalidRequest(ServiceError):
    """The request is well-formed but asks for something that makes no sense (e.g. an inverted date range)."""


ErrorStatuses = Mapping[type[Exception], int]

SHARED_STATUSES: ErrorStatuses = {
    # The database did not answer in time (the request's deadline, see shared.overload) or is away.
    ConnectionFailure: status.HTTP_503_SERVICE_UNAVAILABLE,
    ExecutionTimeout: status.HTTP_503_SERVICE_UNAVAILABLE,
    NotAuthenticated: status.HTTP_401_UNAUTHORIZED,
    SignInUnavailable: status.HTTP_503_SERVICE_UNAVAILABLE,
    AccessRefused: status.HTTP_403_FORBIDDEN,
    AuditUnavailable: status.HTTP_503_SERVICE_UNAVAILABLE,
    AccessUnavailable: status.HTTP_503_SERVICE_UNAVAILABLE,
    InvalidRequest: status.HTTP_400_BAD_REQUEST,
}


def install_error_statuses(app: FastAPI, statuses: ErrorStatuses) -> None:
    """Answer each listed error with its status and `{"detail": <message>}`, as FastAPI does for its own."""

    def handler_for(code: int) -> object:
        async def answer(_: Request, err: Exception) -> Response:
            headers = dict(getattr(err, "headers", None) or {})
            body = err.body() if isinstance(err, ServiceError) else {"detail": str(err)}
            if isinstance(err, ConnectionFailure | ExecutionTimeout):
                body = {"detail": "the database is not answering right now; try again shortly"}
            if code == status.HTTP_503_SERVICE_UNAVAILABLE:
                headers.setdefault("Retry-After", str(RETRY_AFTER_S))
            return JSONResponse(body, status_code=code, headers=headers or None)

        return answer

    for error, code in statuses.items():
        app.add_exception_handler(error, handler_for(code))  # type: ignore[arg-type]


# A domain error answered 422 says what is wrong in one sentence, where FastAPI's own validation answer is a
# list of problems: the document names both shapes, so a client can read either.
DOMAIN_422 = {
    "title": "DomainProblem",
    "type": "object",
    "properties": {"detail": {"title": "Detail", "type": "string"}},
    "required": ["detail"],
    "description": "A rule of the domain refused the request; `detail` says what to change.",
}


def amend_openapi(app: FastAPI, amend: Callable[[dict[str, Any]], None]) -> None:
    """Let `amend` edit the app's OpenAPI document once, when it is first built."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            amend(build())
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]


def operations(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every operation of an OpenAPI document (GET /x, POST /x, ...)."""
    return [op for path in document.get("paths", {}).values() for op in path.values() if isinstance(op, dict)]


def document_error_answers(app: FastAPI, statuses: ErrorStatuses) -> None:
    """Where the table answers a domain error with 422, the document's 422 is either shape (FastAPI's list
    of problems for a malformed request, `DomainProblem` for a refused one), never a promise broken."""
    if status.HTTP_422_UNPROCESSABLE_CONTENT not in statuses.values():
        return

    def amend(document: dict[str, Any]) -> None:
        document.setdefault("components", {}).setdefault("schemas", {})["DomainProblem"] = DOMAIN_422
        for op in operations(document):
            answer = op.get("responses", {}).get("422")
            if answer is None:
                continue
            answer["description"] = "The request is malformed (a list of problems), or a rule refused it"
            answer["content"]["application/json"]["schema"] = {
                "anyOf": [
                    {"$ref": "#/components/schemas/HTTPValidationError"},
                    {"$ref": "#/components/schemas/DomainProblem"},
                ]
            }

    amend_openapi(app, amend)
