"""Pytest plugin: the real Kafka broker and MongoDB-wire server, started at most once per session, lazily.

Enable it in a conftest.py with `pytest_plugins = ["testsupport.fixtures"]`.

- `infra` (session): the `Endpoints` of the servers. When `SG_KAFKA_BOOTSTRAP` and `SG_MONGO_URL` are set
  (`./dev test` sets them) those are used as they are; otherwise the servers are started here (or reused when
  already running) and whatever was started here is stopped when the session ends. Tests that do not ask for
  it start nothing.
- `mongo_db_name`: a fresh database name, `test_<uuid hex>`, so tests never share data.
- `topic_suffix`: a fresh short suffix for topic and consumer-group names.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from devstack.infra import Endpoints
from devstack.kafka import admin_credentials


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
