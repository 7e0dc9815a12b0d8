"""The built-in identity provider's signing key, and the JWKS every service verifies tokens with.

The key comes from settings (`ACCOUNTS_SIGNING_KEY_PEM`) or, without one, is generated at first start and kept
in the database, so restarts and replicas sign with the same key and tokens survive a restart. A council with
its own OIDC provider sets `ACCOUNTS_AUTH_JWKS_URL` and its issuer and audience instead, and this sign-in is
only for the local stack.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from accounts.errors import Unavailable
from accounts.people.store import PeopleStore
from accounts.settings import AccountsSettings
from shared.auth import SigningKey, StaticKeys, TokenIssuer, parse_jwks

log = logging.getLogger(__name__)


class KeysNotReady(Unavailable):
    """The service has not loaded its signing key yet."""


class SigningKeys:
    """The issuer, once its key is loaded at start; `local` serves the same public keys to this service's own
    verifier, so accounts checks its tokens without fetching its own JWKS over HTTP."""

    def __init__(self, store: PeopleStore, settings: AccountsSettings) -> None:
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

    def discovery(self, base_url: str) -> dict[str, Any]:
        """Enough OIDC discovery, for a client that reached this service at `base_url`."""
        base = base_url.rstrip("/")
        return {
            "issuer": self.issuer.issuer,
            "jwks_uri": f"{base}/.well-known/jwks.json",
            "token_endpoint": f"{base}/auth/token",
            "id_token_signing_alg_values_supported": ["ES256", "RS256"],
            "claims_supported": ["sub", "name", "kind", "agency", "role"],
        }
