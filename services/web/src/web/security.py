"""The sign-in cookie and protection against cross-site requests.

- The access token from accounts is kept in an HttpOnly, SameSite=Strict cookie: page scripts cannot read it
  and other sites' pages cannot make the browser send it. So is the refresh token, which the web swaps for a
  new pair when the access token (minutes long) is about to end (`pages.common.signed_in`).
- Every form that changes something carries a CSRF token. For a signed-in person it is an HMAC of a fixed label
  keyed with their sign-in session's id (in the token; the token itself for a token without one): only someone
  who holds the token (which never leaves the cookie) can compute it, it survives the token's refreshes, and
  the web keeps no session state, so any replica can check it. The sign-in form, before there is a
  token, uses a random value in a cookie of its own that the form must repeat (double submit).
- A POST whose `Origin` is another site is refused whatever it carries.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from fastapi import Request, Response

SESSION_COOKIE = "sg_session"
REFRESH_COOKIE = "sg_refresh"
SIGNIN_COOKIE = "sg_signin"
CSRF_FIELD = "csrf_token"
_LABEL = b"safeguarding-web csrf v1"


def csrf_token(key: str) -> str:
    """The CSRF token of forms shown to the holder of the session (or token) `key`."""
    return hmac.new(key.encode(), _LABEL, hashlib.sha256).hexdigest()


def csrf_valid(key: str, submitted: str | None) -> bool:
    return bool(submitted) and hmac.compare_digest(csrf_token(key), str(submitted))


def new_signin_nonce() -> str:
    return secrets.token_urlsafe(32)


def signin_nonce_valid(cookie: str | None, submitted: str | None) -> bool:
    return bool(cookie) and bool(submitted) and hmac.compare_digest(str(cookie), str(submitted))


def same_origin(request: Request) -> bool:
    """False when the browser says the request came from another site (Origin, else Referer, against Host).

    Browsers send Origin on every cross-site POST; a request with neither header (a non-browser client) is
    judged by its CSRF token alone."""
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source or source == "null":
        return source != "null"
    host = request.headers.get("host", "")
    return urlsplit(source).netloc.lower() == host.lower()


def safe_next(target: str | None, default: str = "/children") -> str:
    """A local path to go to after signing in; anything that could leave the site becomes `default`."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if any(ord(c) < 32 for c in target):
        return default
    return target


def set_session(response: Response, token: str, *, max_age: int, secure: bool) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max(0, max_age),
        path="/",
        secure=secure,
        httponly=True,
        samesite="strict",
    )


def set_refresh(response: Response, token: str, *, max_age: int, secure: bool) -> None:
    response.set_cookie(
        REFRESH_COOKIE,
        token,
        max_age=max(0, max_age),
        path="/",
        secure=secure,
        httponly=True,
        samesite="strict",
    )


def clear_session(response: Response, *, secure: bool) -> None:
    for name in (SESSION_COOKIE, REFRESH_COOKIE):
        response.delete_cookie(name, path="/", secure=secure, httponly=True, samesite="strict")


def set_signin_nonce(response: Response, nonce: str, *, secure: bool) -> None:
    response.set_cookie(
        SIGNIN_COOKIE, nonce, max_age=3600, path="/", secure=secure, httponly=True, samesite="strict"
    )
