"""Password sign-in against the real MongoDB-wire server: new passwords are argon2id, and a person whose
password was hashed with scrypt before is moved to argon2id by their next successful sign-in, never by a
failed one."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from accounts.people.models import Person
from accounts.people.passwords import ScryptHasher, hash_password
from devstack.infra import Endpoints
from testsupport.accounts import RunningAccounts, running_accounts

pytestmark = pytest.mark.integration

PASSWORD = "a long enough password"


@pytest.fixture(scope="module")
async def accounts(infra: Endpoints) -> AsyncIterator[RunningAccounts]:
    async with running_accounts(
        kafka_bootstrap=infra.kafka_bootstrap,
        kafka_admin=infra.kafka_admin,
        kafka_credentials=infra.kafka_user("accounts"),
        mongo_url=infra.mongo_url,
    ) as running:
        await running.add_person("lead", "practitioner", "socialcare")
        yield running


async def _sign_in(accounts: RunningAccounts, person: Person, password: str) -> int:
    response = await accounts.client.post(
        "/auth/token", json={"username": person.username, "password": password}
    )
    return response.status_code


async def _stored_hash(accounts: RunningAccounts, person: Person) -> str | None:
    stored = await accounts.ctx.people.person(person.person_id)
    assert stored is not None
    return stored.password_hash


async def test_a_person_added_with_a_password_gets_an_argon2id_hash_and_signs_in(
    accounts: RunningAccounts,
) -> None:
    created = await accounts.client.post(
        "/people",
        json={"username": "new.parent", "name": "New Parent", "kind": "family", "password": PASSWORD},
        headers=accounts.headers(accounts.people["lead"]),
    )
    assert created.status_code == 201, created.text
    person = await accounts.ctx.people.person_by_username("new.parent")
    assert person is not None and (person.password_hash or "").startswith("$argon2id$")
    assert await _sign_in(accounts, person, PASSWORD) == 200


async def test_an_old_scrypt_hash_signs_in_and_is_replaced_by_an_argon2id_hash(
    accounts: RunningAccounts,
) -> None:
    old = ScryptHasher().hash(PASSWORD)
    person = await accounts.add_person("scrypt_user", "family", None, "parent", password_hash=old)
    assert await _sign_in(accounts, person, PASSWORD) == 200
    replaced = await _stored_hash(accounts, person)
    assert replaced is not None and replaced.startswith("$argon2id$")
    assert await _sign_in(accounts, person, PASSWORD) == 200  # with the new hash
    assert await _stored_hash(accounts, person) == replaced  # current now: left as it is


async def test_a_wrong_password_fails_against_either_hash_and_replaces_nothing(
    accounts: RunningAccounts,
) -> None:
    old = ScryptHasher().hash(PASSWORD)
    scrypt_user = await accounts.add_person("old_hash", "family", None, "parent", password_hash=old)
    current = hash_password(PASSWORD)
    argon_user = await accounts.add_person("new_hash", "family", None, "parent", password_hash=current)
    assert await _sign_in(accounts, scrypt_user, "not the password") == 401
    assert await _sign_in(accounts, argon_user, "not the password") == 401
    assert await _stored_hash(accounts, scrypt_user) == old
    assert await _stored_hash(accounts, argon_user) == current


async def test_a_nul_in_a_user_name_is_refused_naming_the_field_not_a_crash(
    accounts: RunningAccounts,
) -> None:
    response = await accounts.client.post(
        "/auth/token", json={"username": "lead\u0000admin", "password": PASSWORD}
    )
    assert response.status_code == 422, response.text
    problem = response.json()["detail"][0]
    assert problem["loc"] == ["body", "username"]
    assert "control character" in problem["msg"]
