"""Pytest plugin: the real Kafka broker and MongoDB-wire server, started at most once per session, lazily.

Enable it in a conftest.py with `pytest_plugins = ["testsupport.fixtures"]`.

- `infra` (session): the `Endpoints` of the servers. When `SG_KAFKA_BOOTSTRAP` and `SG_MONGO_URL` are set
  (`./dev test` sets them) those are used as they are; otherwise the servers are started here (or reused when
  already running) and whatever was started here is stopped when the session ends. Tests that do not ask for
  it start nothing.
- `mongo_db_name`: a fresh database name, `test_<uuid hex>`, so tests never share data.
- `topic_suffix`: a fresh short suffix for topic and consumer-group names.

Services built in the session (in-process apps, whether started or only built for their documents) sign in
to the broker as their local-stack users: the plugin sets `<SERVICE>_KAFKA_USER` and `_KAFKA_PASSWORD` unless
the environment already does (devstack.service_users).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from devstack import service_users
from devstack.infra import Endpoints
from devstack.kafka import admin_credentials


def pytest_configure(config: pytest.Config) -> None:
    for name, value in service_users.local_env().items():
        os.environ.setdefault(name, value)


@pytest.fixture(scope="session")
def infra() -> Iterator[Endpoints]:
    bootstrap = os.environ.get("SG_KAFKA_BOOTSTRAP", "").strip()
    mongo_url = os.environ.get("SG_MONGO_URL", "").strip()
    if bootstrap and mongo_url:
        yield Endpoints(kafka_bootstrap=bootstrap, mongo_url=mongo_url, kafka_admin=admin_credentials())
        return
    from devstack.infra import ensure_infra, stop_infra

    endpoints, started = ensure_infra()
    try:
        yield endpoints
    finally:
        if started:
            stop_infra(started)


@pytest.fixture
def mongo_db_name() -> str:
    return f"test_{uuid.uuid4().hex}"


@pytest.fixture
def topic_suffix() -> str:
    return uuid.uuid4().hex[:10]
