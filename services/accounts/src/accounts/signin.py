"""The built-in identity provider: the signing key, sign-in with a password, and the JWKS.

The key comes from settings (`ACCOUNTS_SIGNING_KEY_PEM`) or, without one, is generated at first start and kept
in the database, so restarts and replicas sign with the same key and tokens survive a restart. A council with
its own OIDC provider sets `ACCOUNTS_AUTH_JWKS_URL` and its issuer and audience instead, and this sign-in is
only for the local stack.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

from accounts.domain import DomainError
from accounts.passwords import verify_password
from accounts.settings import AccountsSettings
from accounts.store import AccountsStore
from shared.auth import IssuedToken, SigningKey, StaticKeys, TokenIssuer, parse_jwks

log = logging.getLogger(__name__)


class SignInFailed(DomainError):
    """Wrong user name or password (which one is not said)."""


class KeysNotReady(DomainError):
    """The service has not loaded its signing key yet."""


class SigningKeys:
    """The issuer, once its key is loaded at start; `local` serves the same public keys to this service's own
    verifier, so accounts checks its tokens without fetching its own JWKS over HTTP."""

    def __init__(self, store: AccountsStore, settings: AccountsSettings) -> None:
        self._store = store
        self._settings = settings
        self._issuer: TokenIssuer | None = None
        self.local = StaticKeys({})

    async def load(self) -> None:
        configured = self._settings.signing_key_pem
        if configured is not None:
            pem = configured.get_secret_value()
        else:
            pem = await self._store.signing_key() or await self._store.keep_signing_key(
                SigningKey.generate().private_pem
            )
        key = SigningKey.from_pem(pem)
        self._issuer = TokenIssuer(
            keys=[key],
            issuer=self._settings.auth_issuer,
            audience=self._settings.auth_audience,
            ttl=timedelta(seconds=self._settings.auth_token_ttl_s),
        )
        self.local.replace(parse_jwks(self._issuer.jwks()))
        log.info("signing key loaded", extra={"fields": {"kid": key.kid, "alg": key.algorithm}})

    @property
    def issuer(self) -> TokenIssuer:
        if self._issuer is None:
            raise KeysNotReady("the signing key is not loaded yet; try again in a moment")
        return self._issuer

    def jwks(self) -> dict[str, Any]:
        return self.issuer.jwks()


async def sign_in(*, store: AccountsStore, keys: SigningKeys, username: str, password: str) -> IssuedToken:
    """A token for the person with this user name and password."""
    person = await store.person_by_username(username)
    stored = person.password_hash if person else None
    # scrypt is deliberately slow: keep it off the event loop.
    if not await asyncio.to_thread(verify_password, password, stored) or person is None:
        log.info("sign-in refused", extra={"fields": {"username": username[:100]}})
        raise SignInFailed("the user name or password is wrong")
    return keys.issuer.issue(person.principal())
