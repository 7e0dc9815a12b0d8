"""One small typed client per backend. Every call carries the signed-in person's token, so each backend's own
access checks apply to everything the web shows: the web never reads anything with rights of its own.

Backend answers become exceptions the pages turn into plain-English messages: 401 → `SignedOut`,
403 → `Forbidden`, 404 → `NotFound`, other 4xx → `Rejected`, 5xx or no answer → `Unavailable`. Each carries the
backend's `detail`, which is written for people (shared.policy reasons, domain errors).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import date
from typing import Any, TypeVar

import httpx
from prometheus_client import CollectorRegistry, Histogram
from pydantic import BaseModel, TypeAdapter, ValidationError

from shared.logs import correlation_id
from web.models import (
    AnalyticsOverview,
    Changes,
    ChildHeader,
    ChildOverview,
    ChildRequests,
    ChronologyEntry,
    ChronologyPage,
    ContactGraph,
    Inbox,
    JoinRequest,
    KeywordCloud,
    KeywordEntries,
    Me,
    NotificationPreferences,
    SafetyScales,
    Token,
    Viewer,
)

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")
Params = Mapping[str, str | int | bool | Sequence[str] | None]


class BackendError(Exception):
    """A backend refused or failed; `detail` is its message, `status` its HTTP status (0: no answer)."""

    def __init__(self, service: str, status: int, detail: str) -> None:
        super().__init__(f"{service} answered {status}: {detail}")
        self.service = service
        self.status = status
        self.detail = detail


class SignedOut(BackendError):
    """The token is missing, expired or not accepted: the person must sign in again."""


class Forbidden(BackendError):
    """The person may not do or see this; `detail` says why."""


class NotFound(BackendError):
    pass


class Rejected(BackendError):
    """The request was not acceptable (validation, conflict); `detail` says what to change."""


class Unavailable(BackendError):
    """The backend did not answer, or failed."""


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300] or response.reason_phrase
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list):  # FastAPI's validation errors
        parts = []
        for item in detail:
            if isinstance(item, dict):
                where = ".".join(str(p) for p in item.get("loc", [])[1:])
                parts.append(f"{where}: {item.get('msg', '')}" if where else str(item.get("msg", "")))
        return "; ".join(parts) or "the request was not valid"
    return response.reason_phrase


def backend_histogram(registry: CollectorRegistry) -> Histogram:
    return Histogram(
        "web_backend_request_seconds",
        "Time the web waited for a backend's answer",
        ["backend", "status"],
        registry=registry,
    )


class Backend:
    """An HTTP client for one backend service, calling it as the signed-in person."""

    service = "backend"

    def __init__(self, client: httpx.AsyncClient, *, timing: Histogram | None = None) -> None:
        self._client = client
        self._timing = timing

    async def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None,
        params: Params | None = None,
        json: Any = None,
        client: str | None = None,
    ) -> httpx.Response:
        headers = {"Accept": "application/json"}
        if client:
            headers["X-Forwarded-For"] = client  # accounts limits sign-in per browser, not per web replica
        if token:
            headers["Authorization"] = f"Bearer {token}"
        cid = correlation_id.get()
        if cid:
            headers["x-correlation-id"] = cid
        query = {k: v for k, v in (params or {}).items() if v is not None and v != [] and v != ""}
        started = time.perf_counter()
        status = "error"
        try:
            response = await self._client.request(method, path, params=query, json=json, headers=headers)
            status = str(response.status_code)
        except httpx.HTTPError as err:
            raise Unavailable(
                self.service, 0, f"{self.service} is not answering ({type(err).__name__})"
            ) from err
        finally:
            if self._timing is not None:
                self._timing.labels(self.service, status).observe(time.perf_counter() - started)
        code = response.status_code
        if code < 400:
            return response
        detail = _detail(response)
        error: type[BackendError]
        if code == 401:
            error = SignedOut
        elif code == 403:
            error = Forbidden
        elif code == 404:
            error = NotFound
        elif code < 500:
            error = Rejected
        else:
            error = Unavailable
        raise error(self.service, code, detail)

    async def get(self, model: type[M], path: str, *, token: str, params: Params | None = None) -> M:
        response = await self.request("GET", path, token=token, params=params)
        return self._parse(model, response)

    async def get_list(
        self, model: type[M], path: str, *, token: str, params: Params | None = None
    ) -> list[M]:
        response = await self.request("GET", path, token=token, params=params)
        try:
            return TypeAdapter(list[model]).validate_python(response.json())  # type: ignore[valid-type]
        except (ValueError, ValidationError) as err:
            raise Unavailable(self.service, response.status_code, "an answer the web cannot read") from err

    def _parse(self, model: type[M], response: httpx.Response) -> M:
        try:
            return model.model_validate_json(response.content)
        except ValidationError as err:
            raise Unavailable(self.service, response.status_code, "an answer the web cannot read") from err

    async def close(self) -> None:
        await self._client.aclose()

    async def healthy(self) -> bool:
        """Whether the backend process answers at all (its `/healthz`)."""
        try:
            response = await self._client.get("/healthz", timeout=2.0)
        except httpx.HTTPError:
            return False
        return response.status_code == 200


class AccountsClient(Backend):
    """Sign-in, people, children, the team and who viewed the record."""

    service = "accounts"

    async def sign_in(self, *, username: str, password: str, client: str | None = None) -> Token:
        response = await self.request(
            "POST",
            "/auth/token",
            token=None,
            json={"username": username, "password": password},
            client=client,
        )
        return self._parse(Token, response)

    async def refresh(self, *, refresh_token: str, client: str | None = None) -> Token:
        response = await self.request(
            "POST", "/auth/refresh", token=None, json={"refresh_token": refresh_token}, client=client
        )
        return self._parse(Token, response)

    async def sign_out(self, *, token: str) -> None:
        await self.request("POST", "/auth/sign-out", token=token)

    async def me(self, *, token: str) -> Me:
        return await self.get(Me, "/me", token=token)

    async def my_children(self, *, token: str) -> list[ChildHeader]:
        return await self.get_list(ChildHeader, "/me/children", token=token)

    async def requests_to_decide(self, *, token: str) -> list[ChildRequests]:
        return await self.get_list(ChildRequests, "/me/join-requests", token=token)

    async def search(
        self,
        *,
        token: str,
        nhs_number: str | None = None,
        given_name: str | None = None,
        family_name: str | None = None,
        date_of_birth: date | None = None,
    ) -> list[ChildHeader]:
        params: Params = {
            "nhs_number": nhs_number,
            "given_name": given_name,
            "family_name": family_name,
            "date_of_birth": date_of_birth.isoformat() if date_of_birth else None,
        }
        return await self.get_list(ChildHeader, "/children/search", token=token, params=params)

    async def child(self, child_id: str, *, token: str) -> ChildHeader:
        return await self.get(ChildHeader, f"/children/{child_id}", token=token)

    async def overview(self, child_id: str, *, token: str) -> tuple[ChildHeader, list[Viewer] | BackendError]:
        """The header and the viewers from one read; the viewers a `Forbidden` if this person may not see them."""
        overview = await self.get(ChildOverview, f"/children/{child_id}/overview", token=token)
        if overview.viewers is None:
            return overview.header, Forbidden(self.service, 403, overview.viewers_refused or "not allowed")
        return overview.header, overview.viewers

    async def ask_to_join(self, child_id: str, *, token: str, reason: str) -> JoinRequest | None:
        """The request; `None` when accounts only says it was sent (a shielded child, or no account)."""
        response = await self.request(
            "POST", f"/children/{child_id}/join-requests", token=token, json={"reason": reason}
        )
        if response.status_code == 202:
            return None
        return self._parse(JoinRequest, response)

    async def decide_request(
        self, child_id: str, request_id: str, *, token: str, approve: bool, reason: str | None
    ) -> None:
        verb = "approve" if approve else "decline"
        await self.request(
            "POST",
            f"/children/{child_id}/join-requests/{request_id}/{verb}",
            token=token,
            json={"reason": reason},
        )


class ChronologyClient(Backend):
    """The child's chronology, its exports, and the lead's significance marks."""

    service = "chronology"

    async def chronology(self, child_id: str, *, token: str, params: Params) -> ChronologyPage:
        return await self.get(ChronologyPage, f"/children/{child_id}/chronology", token=token, params=params)

    async def export(self, child_id: str, *, token: str, printable: bool) -> httpx.Response:
        path = f"/children/{child_id}/chronology/" + ("print" if printable else "export.csv")
        return await self.request("GET", path, token=token)

    async def mark_significance(
        self, child_id: str, entry_id: str, *, token: str, significant: bool, reason: str
    ) -> ChronologyEntry:
        response = await self.request(
            "PUT",
            f"/children/{child_id}/chronology/{entry_id}/significance",
            token=token,
            json={"significant": significant, "reason": reason},
        )
        return self._parse(ChronologyEntry, response)


# What the child's page shows from analytics: each part, or why this person may not see it.
AnalyticsParts = tuple[ContactGraph | BackendError, KeywordCloud | BackendError, SafetyScales | BackendError]


class AnalyticsClient(Backend):
    """The graph of agency contact over time, the keyword cloud and the safety-scale history."""

    service = "analytics"

    async def overview(self, child_id: str, *, token: str, granularity: str) -> AnalyticsParts:
        """The graph, the cloud and the scales from one read; each a `Forbidden` if this person may not see it."""
        overview = await self.get(
            AnalyticsOverview,
            f"/children/{child_id}/overview",
            token=token,
            params={"granularity": granularity},
        )

        def part(value: T | None, refused: str | None) -> T | BackendError:
            return Forbidden(self.service, 403, refused or "not allowed") if value is None else value

        return (
            part(overview.graph, overview.graph_refused),
            part(overview.cloud, overview.cloud_refused),
            part(overview.scales, overview.scales_refused),
        )

    async def keyword_entries(self, child_id: str, term: str, *, token: str) -> KeywordEntries:
        return await self.get(
            KeywordEntries, f"/children/{child_id}/keyword-cloud/entries", token=token, params={"term": term}
        )


class NotificationsClient(Backend):
    """The signed-in person's own inbox, unread count, live stream and preferences."""

    service = "notifications"

    async def inbox(self, *, token: str, limit: int = 50) -> Inbox:
        return await self.get(Inbox, "/notifications", token=token, params={"limit": limit})

    async def changes(self, child_ids: Sequence[str], *, token: str) -> Changes:
        """What changed since the person last looked at each of these children (those they may see)."""
        return await self.get(Changes, "/changes", token=token, params={"child_id": list(child_ids)})

    async def unread(self, *, token: str) -> int:
        response = await self.request("GET", "/notifications/unread", token=token)
        return int(response.json().get("unread", 0))

    async def mark_read(self, notification_id: str, *, token: str) -> None:
        await self.request("POST", f"/notifications/{notification_id}/read", token=token)

    async def mark_all_read(self, *, token: str) -> None:
        await self.request("POST", "/notifications/read-all", token=token)

    async def preferences(self, *, token: str) -> NotificationPreferences:
        return await self.get(NotificationPreferences, "/preferences", token=token)

    async def set_preferences(self, channels: dict[str, list[str]], *, token: str) -> NotificationPreferences:
        response = await self.request("PUT", "/preferences", token=token, json={"channels": channels})
        return self._parse(NotificationPreferences, response)

    async def stream(self, *, token: str, last_event_id: str | None) -> AsyncIterator[bytes]:
        """The person's live stream, passed through as it comes (Server-Sent Events)."""
        headers = {"Accept": "text/event-stream", "Authorization": f"Bearer {token}"}
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        request = self._client.build_request("GET", "/notifications/stream", headers=headers, timeout=None)
        try:
            response = await self._client.send(request, stream=True)
        except httpx.HTTPError as err:
            raise Unavailable(
                self.service, 0, f"{self.service} is not answering ({type(err).__name__})"
            ) from err
        try:
            if response.status_code >= 400:
                await response.aread()
                raise (SignedOut if response.status_code == 401 else Unavailable)(
                    self.service, response.status_code, _detail(response)
                )
            async for chunk in response.aiter_raw():
                yield chunk
        finally:
            await response.aclose()
