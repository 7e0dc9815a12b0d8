"""What every page shares: who is signed in, the forms' CSRF check, rendering, and the messages shown after
an action."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Form, Path, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment

from shared.auth import KeysUnavailable, TokenRejected, TokenVerifier
from shared.policy import Principal
from web import security
from web.clients import AccountsClient, AnalyticsClient, ChronologyClient, Unavailable
from web.forum import ForumClient
from web.settings import WebSettings

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


@dataclass(frozen=True)
class SignedIn:
    """The person using the page: who their token says they are, and the token the backends are called with."""

    principal: Principal
    token: str

    @property
    def csrf(self) -> str:
        return security.csrf_token(self.token)

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


async def signed_in(request: Request) -> SignedIn:
    """The signed-in person, from the session cookie; `NeedsSignIn` when there is none or it has expired."""
    token = request.cookies.get(security.SESSION_COOKIE)
    if not token:
        raise NeedsSignIn()
    try:
        principal = await web_of(request).verifier.verify(token)
    except TokenRejected as err:
        raise NeedsSignIn(expired=True) from err
    except KeysUnavailable as err:
        raise Unavailable("accounts", 0, "cannot check your sign-in right now") from err
    user = SignedIn(principal=principal, token=token)
    request.state.user = user
    return user


SignedInDep = Annotated[SignedIn, Depends(signed_in)]


async def checked_form(
    request: Request, user: SignedInDep, csrf_token: Annotated[str, Form(max_length=200)] = ""
) -> SignedIn:
    """The signed-in person, for a form that changes something: its CSRF token and origin must be right."""
    if not security.same_origin(request) or not security.csrf_valid(user.token, csrf_token):
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
