"""Passwords: argon2id for every new hash; the scrypt hashes made before it still verify and are due for
replacement; a wrong password fails against either."""

from __future__ import annotations

from pwdlib.hashers.argon2 import Argon2Hasher

from accounts.people.passwords import ScryptHasher, check, hash_password

PASSWORD = "correct horse battery"


def test_a_new_password_is_hashed_with_argon2id_and_the_recommended_parameters() -> None:
    stored = hash_password(PASSWORD)
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert check(PASSWORD, stored) == (True, None)  # current: nothing to replace


def test_an_old_scrypt_hash_verifies_and_comes_back_as_an_argon2id_hash() -> None:
    old = ScryptHasher().hash(PASSWORD)
    assert old.startswith("scrypt$16384$8$1$")
    valid, updated = check(PASSWORD, old)
    assert valid and updated is not None and updated.startswith("$argon2id$")
    assert check(PASSWORD, updated) == (True, None)


def test_an_argon2_hash_with_weaker_parameters_is_replaced_too() -> None:
    weak = Argon2Hasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    valid, updated = check(PASSWORD, weak)
    assert valid and updated is not None and updated.startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def test_a_wrong_password_fails_against_either_kind_of_hash_and_offers_no_new_one() -> None:
    for stored in (hash_password(PASSWORD), ScryptHasher().hash(PASSWORD)):
        assert check("correct horse battery!", stored) == (False, None)


def test_no_hash_or_an_unknown_one_never_verifies() -> None:
    assert check(PASSWORD, None) == (False, None)
    assert check(PASSWORD, "md5$nope") == (False, None)
    assert check(PASSWORD, "scrypt$not$a$hash") == (False, None)
