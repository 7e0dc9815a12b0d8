"""Signing in and out. The password goes to accounts' `/auth/token`; the token it returns is kept in an
HttpOnly, SameSite=Strict cookie and never shown to page scripts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from shared.auth import TokenRejected
from shared.text import Line
from web import security
from web.clients import Rejected, SignedOut
from web.pages.common import FormUserDep, render, web_of

router = APIRouter()


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
            pass
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
        token = await web.accounts.sign_in(username=username.strip(), password=password)
    except (SignedOut, Rejected):
        return sign_in_page(
            request,
            next_path=next_path,
            error="The user name or password is not right. Check them and try again.",
            status_code=401,
        )
    response = RedirectResponse(next_path, status_code=303)
    security.set_session(
        response, token.access_token, max_age=token.expires_in, secure=web.settings.cookie_secure
    )
    response.delete_cookie(security.SIGNIN_COOKIE, path="/")
    return response


@router.post("/sign-out", summary="Sign out")
async def sign_out(request: Request, user: FormUserDep) -> Response:
    """Forget the session cookie."""
    response = RedirectResponse("/sign-in?done=signed_out", status_code=303)
    security.clear_session(response, secure=web_of(request).settings.cookie_secure)
    return response
