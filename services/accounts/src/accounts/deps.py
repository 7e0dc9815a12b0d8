"""Typed dependencies of accounts' routes: what `create_app` put on `app.state`, and the path ids."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from accounts.context import Accounts
from accounts.people.keys import SigningKeys


def get_accounts(request: Request) -> Accounts:
    accounts: Accounts = request.app.state.accounts
    return accounts


def get_signing_keys(request: Request) -> SigningKeys:
    keys: SigningKeys = request.app.state.signing_keys
    return keys


AccountsDep = Annotated[Accounts, Depends(get_accounts)]
SigningKeysDep = Annotated[SigningKeys, Depends(get_signing_keys)]
Id = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")]
