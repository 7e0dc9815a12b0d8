"""Typed dependencies of accounts' routes: what `create_app` put on `app.state`, and the path ids."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from accounts.context import Accounts
from accounts.people.keys import SigningKeys
from accounts.people.throttle import Throttle


def get_accounts(request: Request) -> Accounts:
    accounts: Accounts = request.app.state.accounts
    return accounts


def get_signing_keys(request: Request) -> SigningKeys:
    keys: SigningKeys = request.app.state.signing_keys
    return keys


def get_throttle(request: Request) -> Throttle:
    throttle: Throttle = request.app.state.throttle
    return throttle


def client_of(request: Request) -> str:
    """The address sign-in is limited by: the peer's, or the one a trusted proxy (the web) passes on."""
    peer = request.client.host if request.client else "unknown"
    trusted: frozenset[str] = request.app.state.trusted_proxies
    forwarded = request.headers.get("x-forwarded-for")
    if peer in trusted and forwarded:
        return forwarded.split(",")[-1].strip()[:100] or peer
    return peer


AccountsDep = Annotated[Accounts, Depends(get_accounts)]
ThrottleDep = Annotated[Throttle, Depends(get_throttle)]
ClientDep = Annotated[str, Depends(client_of)]
SigningKeysDep = Annotated[SigningKeys, Depends(get_signing_keys)]
Id = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")]
