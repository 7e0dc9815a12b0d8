"""The demo people and children, seeded into a running accounts service (in-process, on the real servers):
written through accounts' own use cases, published by that service's outbox relay, and unchanged when seeded
again."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from devstack import demo_accounts, services
from devstack.demo_accounts import AMY, CHILDREN, PEOPLE
from devstack.infra import Endpoints
from testsupport.accounts import RunningAccounts, running_accounts

PASSWORD = "local-demo-only"


def test_the_seeder_reads_the_settings_the_accounts_process_was_started_with() -> None:
    env = {
        "ACCOUNTS_KAFKA_BOOTSTRAP": "127.0.0.1:1",
        "ACCOUNTS_MONGO_URL": "mongodb://127.0.0.1:2/",
        "ACCOUNTS_MONGO_DB": "test_accounts_x",
        "ACCOUNTS_TOPIC_PREFIX": "run-x.",
        "ACCOUNTS_OUTBOX_POLL_S": "0.5",
        "CHRONOLOGY_MONGO_DB": "not-this-one",
    }
    settings = demo_accounts.settings_of(env)
    assert (settings.kafka_bootstrap, settings.mongo_url, settings.database) == (
        "127.0.0.1:1",
        "mongodb://127.0.0.1:2/",
        "test_accounts_x",
    )
    assert settings.topic_prefix == "run-x." and settings.outbox_poll_s == 0.5


def test_the_local_accounts_process_is_not_asked_to_seed_anything() -> None:
    accounts = services.select(["accounts"])[0]
    env = services.service_env(accounts, Endpoints("127.0.0.1:1", "mongodb://127.0.0.1:2/"), base={})
    assert not [name for name in env if "DEMO" in name]
    assert demo_accounts.settings_of(env).database == "accounts"


async def _wait_until_published(accounts: RunningAccounts, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while True:
        pending = [c for child_id in CHILDREN for c in await accounts.ctx.store.commits(child_id)]
        if pending and all(c.published for c in pending):
            return
        assert time.monotonic() < deadline, f"the relay left {[c.id for c in pending if not c.published]}"
        await asyncio.sleep(0.2)


async def _stored(accounts: RunningAccounts) -> dict[str, Any]:
    return {
        "commits": {c: [x.id for x in await accounts.ctx.store.commits(c)] for c in CHILDREN},
        "people": [await accounts.ctx.people.person(p.person_id) for p in PEOPLE],
    }


@pytest.mark.integration
async def test_the_demo_seed_is_published_by_the_running_service_and_seeding_again_changes_nothing(
    infra: Endpoints,
) -> None:
    async with running_accounts(
        kafka_bootstrap=infra.kafka_bootstrap, mongo_url=infra.mongo_url, demo_password=PASSWORD
    ) as accounts:
        await _wait_until_published(accounts)
        amy = await accounts.ctx.store.child(AMY)
        assert amy is not None and amy.details.given_name == "Amy"
        assert {
            p.person_id for p in PEOPLE if p.username in ("tess.morgan", "rae.lindqvist", "sam.okafor")
        } == {m.person_id for m in amy.access.members}
        assert {f.person_id for f in amy.access.family} == {"p-kerry-example", "p-amy-example"}
        before = await _stored(accounts)

        await demo_accounts.seed_service(accounts.settings, password=PASSWORD)

        assert await _stored(accounts) == before
        signed = await accounts.client.post(
            "/auth/token", json={"username": "sam.okafor", "password": PASSWORD}
        )
        assert signed.status_code == 200, signed.text


def test_the_web_is_told_the_demo_users_the_dev_stack_seeds_and_parses_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from devstack.demo_accounts import BY_USERNAME
    from devstack.services import WEB, local_wiring
    from web.settings import WebSettings

    env = local_wiring(WEB)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = WebSettings()
    assert [u.username for u in settings.demo_users][:2] == ["sam.okafor", "tess.morgan"]
    assert settings.demo_password is not None
    for user in settings.demo_users:
        assert BY_USERNAME[user.username].name == user.name
