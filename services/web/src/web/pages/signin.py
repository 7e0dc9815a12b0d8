"""Signing in and out. The password goes to accounts' `/auth/token`; the tokens it returns (an access token of
minutes and a refresh token) are kept in HttpOnly, SameSite=Strict cookies and never shown to page scripts.
Signing out ends the sign-in at accounts, so its tokens stop working in every service, not only here."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from shared.auth import TokenRejected
from shared.text import Line
from web import security
from web.clients import BackendError, Rejected, SignedOut
from web.pages.common import FormUserDep, render, web_of

router = APIRouter()
log = logging.getLogger(__name__)


def sign_in_page(request: Request, *, next_path: str, error: str | None, status_code: int) -> Response:
    web = web_of(request)
    nonce = security.new_signin_nonce()
    response = render(
        request,
        "signin.html",
        status_code=status_code,
        nonce=nonce,
        next_path=next_path,
        error=error,
        demo_users=web.settings.demo_users if web.settings.demo_password else (),
    )
    security.set_signin_nonce(response, nonce, secure=web.settings.cookie_secure)
    return response


@router.get("/sign-in", summary="The sign-in page")
async def show_sign_in(request: Request, next: Line | None = None) -> Response:
    """Sign in, or go straight on if already signed in."""
    web = web_of(request)
    token = request.cookies.get(security.SESSION_COOKIE)
    if token:
        try:
            await web.verifier.verify(token)
            return RedirectResponse(security.safe_next(next), status_code=303)
        except TokenRejected:
            pass  # ended or revoked: sign in again (a page with a refresh cookie refreshes on its own)
    return sign_in_page(request, next_path=security.safe_next(next), error=None, status_code=200)


@router.post("/sign-in", summary="Sign in with a user name and password")
async def sign_in(
    request: Request,
    username: Annotated[Line, Form(max_length=100)] = "",
    password: Annotated[Line, Form(max_length=200)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[Line, Form(max_length=500)] = "",
) -> Response:
    """Exchange the user name and password for a token, kept in the session cookie."""
    web = web_of(request)
    next_path = security.safe_next(next)
    nonce = request.cookies.get(security.SIGNIN_COOKIE)
    if not security.same_origin(request) or not security.signin_nonce_valid(nonce, csrf_token):
        return sign_in_page(
            request,
            next_path=next_path,
            error="The sign-in form had expired. Please try again.",
            status_code=400,
        )
    if not username.strip() or not password:
        return sign_in_page(
            request, next_path=next_path, error="Enter your user name and password.", status_code=400
        )
    try:
        token = await web.accounts.sign_in(
            username=username.strip(),
            password=password,
            client=request.client.host if request.client else None,
        )
    except Rejected as err:
        if err.status == 429:
            return sign_in_page(
                request,
                next_path=next_path,
                error="There have been too many attempts to sign in. Wait a minute, then try again.",
                status_code=429,
            )
        return _refused(request, next_path)
    except SignedOut:
        return _refused(request, next_path)
    response = RedirectResponse(next_path, status_code=303)
    request.state.refreshed = token  # the cookies are set as for a refresh (web.app.keep_refreshed)
    response.delete_cookie(security.SIGNIN_COOKIE, path="/")
    return response


def _refused(request: Request, next_path: str) -> Response:
    # One message whatever accounts' reason was (wrong, unknown, locked or disabled): no user-name oracle here.
    return sign_in_page(
        request,
        next_path=next_path,
        error="The user name or password is not right, or the account is locked for a while after too many "
        "attempts. Check them and try again later.",
        status_code=401,
    )


@router.post("/sign-out", summary="Sign out")
async def sign_out(request: Request, user: FormUserDep) -> Response:
    """End the sign-in at accounts (every service then refuses its tokens) and forget the cookies."""
    try:
        await web_of(request).accounts.sign_out(token=user.token)
    except BackendError as err:
        # Ended already, or accounts is away: the cookies go anyway (the access token lapses within minutes).
        log.warning("sign-out not confirmed by accounts: %s", err)
    request.state.refreshed = None
    response = RedirectResponse("/sign-in?done=signed_out", status_code=303)
    security.clear_session(response, secure=web_of(request).settings.cookie_secure)
    return response
