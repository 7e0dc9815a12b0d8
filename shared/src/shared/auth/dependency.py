"""The FastAPI dependency every route that needs a sign-in declares: `PrincipalDep`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.auth.keys import KeysUnavailable
from shared.auth.tokens import TokenRejected, TokenVerifier, VerifiedToken
from shared.errors import NotAuthenticated, SignInUnavailable
from shared.policy import Principal

_bearer = HTTPBearer(
    auto_error=False, description="A token from accounts' POST /auth/token or the council's IdP"
)


def install_verifier(app: Any, verifier: TokenVerifier) -> None:
    """Make `verifier` the one `PrincipalDep` uses in this app (set once in the service's `create_app`)."""
    app.state.token_verifier = verifier


async def current_token(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> VerifiedToken:
    """The signed-in principal's verified token, or 401 saying what is wrong with it."""
    if credentials is None:
        raise NotAuthenticated("sign in first: send the header 'Authorization: Bearer <token>'")
    verifier = getattr(request.app.state, "token_verifier", None)
    if not isinstance(verifier, TokenVerifier):
        raise RuntimeError("no token verifier installed: call shared.auth.install_verifier in create_app")
    try:
        return await verifier.check(credentials.credentials)
    except TokenRejected as err:
        challenge = f'Bearer error="invalid_token", error_description="{err}"'
        raise NotAuthenticated(str(err), challenge=challenge) from err
    except KeysUnavailable as err:
        raise SignInUnavailable("cannot check sign-in right now: the signing keys are unavailable") from err


VerifiedTokenDep = Annotated[VerifiedToken, Depends(current_token)]


async def current_principal(token: VerifiedTokenDep) -> Principal:
    """The signed-in principal, or 401 saying what is wrong with the token."""
    return token.principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]
