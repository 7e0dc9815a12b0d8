"""Password hashing for the built-in sign-in (demo users and councils without their own identity provider).

argon2id through pwdlib with its recommended parameters (argon2-cffi's defaults, RFC 9106's low-memory
profile). Hashes made before it are scrypt (`scrypt$N$r$p$salt$digest`, from the standard library): they still
verify, and `check` hands back an argon2id hash of the password to store in their place, as it does for an
argon2 hash whose parameters are out of date.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from pwdlib import PasswordHash
from pwdlib.exceptions import UnknownHashError
from pwdlib.hashers.argon2 import Argon2Hasher
from pwdlib.hashers.base import ensure_bytes, ensure_str

# An argon2id hash of a random password, with the current parameters: checking a user name that does not exist
# costs as much as checking a wrong password (no user-name oracle).
_DUMMY = "$argon2id$v=19$m=65536,t=3,p=4$AxY9Nwu8iojk/tMyEZ5eZA$gWIKqAgFrP3Gwewh/UoK3hmwUgHw7FTQNROnPl7a1Y8"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class ScryptHasher:
    """The hashes accounts made before argon2id: verified, never made any more, always due for a rehash."""

    _N, _R, _P = 2**14, 8, 1

    @classmethod
    def identify(cls, hash: str | bytes) -> bool:
        return ensure_str(hash).startswith("scrypt$")

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        """An old-style hash (tests make one to show it is still accepted and then replaced)."""
        salt = salt or secrets.token_bytes(16)
        digest = hashlib.scrypt(ensure_bytes(password), salt=salt, n=self._N, r=self._R, p=self._P, dklen=32)
        return f"scrypt${self._N}${self._R}${self._P}${_b64(salt)}${_b64(digest)}"

    def verify(self, password: str | bytes, hash: str | bytes) -> bool:
        try:
            _, n, r, p, salt, digest = ensure_str(hash).split("$")
            expected = _unb64(digest)
            actual = hashlib.scrypt(
                ensure_bytes(password), salt=_unb64(salt), n=int(n), r=int(r), p=int(p), dklen=len(expected)
            )
        except ValueError:
            return False
        return hmac.compare_digest(actual, expected)

    def check_needs_rehash(self, hash: str | bytes) -> bool:
        return True


# The first hasher makes every new hash; the others only verify.
_HASHING = PasswordHash((Argon2Hasher(), ScryptHasher()))


def hash_password(password: str) -> str:
    """A new hash of `password` (argon2id)."""
    return _HASHING.hash(password)


def check(password: str, stored: str | None) -> tuple[bool, str | None]:
    """Whether `password` matches `stored`, and a new hash to store instead when `stored` is outdated (None
    if it is current or the password is wrong). Takes as long when there is no stored hash."""
    try:
        valid, updated = _HASHING.verify_and_update(password, stored or _DUMMY)
    except UnknownHashError:
        return False, None
    if stored is None or not valid:
        return False, None
    return True, updated


def verify_password(password: str, stored: str | None) -> bool:
    """Whether `password` matches `stored`."""
    return check(password, stored)[0]
