"""What every page shares: who is signed in, the forms' CSRF check, rendering, and the messages shown after
an action."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, Form, Path, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment

from shared.auth import KeysUnavailable, TokenExpired, TokenRejected, TokenVerifier, VerifiedToken
from shared.policy import Principal
from web import security
from web.clients import (
    AccountsClient,
    AnalyticsClient,
    ChronologyClient,
    NotificationsClient,
    Rejected,
    SignedOut,
    Unavailable,
)
from web.forum import ForumClient
from web.models import Token
from web.settings import WebSettings

# An access token this close to its end is swapped before the page calls the backends with it.
REFRESH_AHEAD = timedelta(seconds=60)

# Child, request and entry ids go into backend URLs: only characters that cannot change the path.
SafeId = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")]
# An entry id is `<agency>:<event id>` (chronology's key); a colon cannot change a path either.
EntryId = Annotated[str, Path(min_length=1, max_length=160, pattern=r"^[A-Za-z0-9_.:-]+$")]

# Shown after a redirect (`?done=<code>`): fixed texts, so nothing a visitor types is reflected.
DONE_MESSAGES: dict[str, str] = {
    "asked": "Your request has been sent. The child's lead professional will approve or decline it.",
    "approved": "Request approved: they are now in the child's team.",
    "declined": "Request declined. Your reason has been recorded.",
    "marked": "The entry is now marked as significant.",
    "unmarked": "The entry is no longer marked as significant.",
    "forum_posted": "Your post is in the forum.",
    "forum_scale": "Your safety scale has been recorded.",
    "forum_pinned": "The pin has been changed.",
    "forum_redacted": "The post was redacted; your reason has been recorded.",
    "signed_out": "You have signed out.",
    "preferences": "Your notification preferences are saved.",
    "expired": "Your sign-in has ended. Please sign in again.",
}


@dataclass(frozen=True)
class Web:
    """The web's resources, built once in `create_app`."""

    settings: WebSettings
    templates: Environment
    verifier: TokenVerifier
    accounts: AccountsClient
    chronology: ChronologyClient
    analytics: AnalyticsClient
    forum: ForumClient
    notifications: NotificationsClient


@dataclass(frozen=True)
class SignedIn:
    """The person using the page: who their token says they are, and the token the backends are called with."""

    principal: Principal
    token: str
    session_id: str | None = None

    @property
    def csrf_key(self) -> str:
        """What the forms' CSRF token is keyed with: the sign-in session, so a refresh keeps forms valid."""
        return self.session_id or self.token

    @property
    def csrf(self) -> str:
        return security.csrf_token(self.csrf_key)

    @property
    def family(self) -> bool:
        return self.principal.kind == "family"

    @property
    def practitioner(self) -> bool:
        return self.principal.kind in ("practitioner", "manager")


class NeedsSignIn(Exception):
    """No valid sign-in: the page sends the browser to the sign-in page (and back here afterwards)."""

    def __init__(self, *, expired: bool = False) -> None:
        super().__init__("sign in first")
        self.expired = expired


class BadForm(Exception):
    """A form arrived without a valid CSRF token or from another site."""


def web_of(request: Request) -> Web:
    web = request.app.state.web
    assert isinstance(web, Web)
    return web


async def _verified(web: Web, token: str | None) -> VerifiedToken | None:
    """The token checked; None if there is none or it has expired (a refresh may replace it)."""
    if not token:
        return None
    try:
        return await web.verifier.check(token)
    except TokenExpired:
        return None
    except TokenRejected as err:
        raise NeedsSignIn(expired=True) from err
    except KeysUnavailable as err:
        raise Unavailable("accounts", 0, "cannot check your sign-in right now") from err


async def _refreshed(request: Request, refresh_token: str) -> tuple[Token, VerifiedToken] | None:
    """A new pair from accounts for the refresh cookie, kept for the response's cookies; None if refused."""
    web = web_of(request)
    try:
        renewed = await web.accounts.refresh(
            refresh_token=refresh_token, client=request.client.host if request.client else None
        )
    except (SignedOut, Rejected):
        return None
    verified = await _verified(web, renewed.access_token)
    if verified is None:
        return None
    request.state.refreshed = renewed
    return renewed, verified


def _ending(verified: VerifiedToken) -> bool:
    """In the last quarter of the token's life, and at most its last minute: a page then renews it once,
    and the requests it makes next (the bell, the live stream) carry the new token rather than each
    spending the refresh token again, which rotation would read as a stolen one."""
    ahead = min(REFRESH_AHEAD, (verified.expires_at - verified.issued_at) / 4)
    return verified.expires_at - datetime.now(UTC) < ahead


async def signed_in(request: Request) -> SignedIn:
    """The signed-in person, from the session cookie; an access token that has ended or is about to is
    swapped for a new one with the refresh cookie, unseen. `NeedsSignIn` when neither is good."""
    web = web_of(request)
    token = request.cookies.get(security.SESSION_COOKIE)
    refresh_token = request.cookies.get(security.REFRESH_COOKIE)
    verified = await _verified(web, token)
    if refresh_token and (verified is None or _ending(verified)):
        try:
            renewed = await _refreshed(request, refresh_token)
        except Unavailable:
            if verified is None:
                raise
            renewed = None  # accounts is away: the current token still serves for its last seconds
        if renewed is not None:
            token, verified = renewed[0].access_token, renewed[1]
    if verified is None or token is None:
        raise NeedsSignIn(expired=bool(token or refresh_token))
    user = SignedIn(principal=verified.principal, token=token, session_id=verified.session_id)
    request.state.user = user
    return user


SignedInDep = Annotated[SignedIn, Depends(signed_in)]


async def checked_form(
    request: Request, user: SignedInDep, csrf_token: Annotated[str, Form(max_length=200)] = ""
) -> SignedIn:
    """The signed-in person, for a form that changes something: its CSRF token and origin must be right."""
    if not security.same_origin(request) or not security.csrf_valid(user.csrf_key, csrf_token):
        raise BadForm()
    return user


FormUserDep = Annotated[SignedIn, Depends(checked_form)]


def render(request: Request, template: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A page from `template`, with what every page needs (the person, their CSRF token, any message)."""
    web = web_of(request)
    user: SignedIn | None = getattr(request.state, "user", None)
    done = DONE_MESSAGES.get(request.query_params.get("done", ""))
    html = web.templates.get_template(template).render(
        request=request,
        user=user,
        csrf=user.csrf if user else "",
        done=done,
        demo_password=(web.settings.demo_password.get_secret_value() if web.settings.demo_password else None),
        **context,
    )
    return HTMLResponse(html, status_code=status_code)
