"""A service whose database stops during a request answers a quick 503 with Retry-After, never a hang; its
readiness says so; once the database runs again, so does the service, within seconds.

The forum runs as its own process on a FerretDB process of this test's own (on the shared PostgreSQL), which
the test suspends with SIGSTOP: what a database that stopped answering looks like to its clients, while no
other test's database is touched.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest

from devstack import ferretdb, paths, postgres
from devstack.infra import Endpoints
from shared import mongo
from shared.topics import Topics
from testsupport.identities import Identities, open_account
from testsupport.offline import eventually_async
from testsupport.services import IsolatedRun, ServiceProcess, free_port

pytestmark = pytest.mark.integration
IDS = Identities()
LEAD = "lead-stopped-db"
DEADLINE_S = 2.0  # the forum's request deadline here, so a stall shows in seconds


@dataclass
class PrivateFerret:
    proc: subprocess.Popen[bytes]
    url: str

    def suspend(self) -> None:
        os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.proc.pid, signal.SIGCONT)


@pytest.fixture
def private_ferret(infra: Endpoints) -> Iterator[PrivateFerret]:
    port = free_port()
    argv = [str(paths.FERRETDB_BIN), "-listen", f"127.0.0.1:{port}", "-log-level", "error"]
    argv += ["-postgresql-url", postgres.url(paths.Ports.from_env())]
    log = (paths.log_file("ferretdb-stopped-db-test")).open("ab")
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    url = f"mongodb://127.0.0.1:{port}/"
    deadline = time.monotonic() + 30
    while not ferretdb.healthy(url, timeout=1.0):
        assert proc.poll() is None and time.monotonic() < deadline, "the test's own FerretDB did not start"
        time.sleep(0.2)
    try:
        yield PrivateFerret(proc, url)
    finally:
        os.kill(proc.pid, signal.SIGCONT)
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


@pytest.fixture
async def forum(infra: Endpoints, private_ferret: PrivateFerret) -> AsyncIterator[ServiceProcess]:
    run = IsolatedRun(
        kafka_bootstrap=infra.kafka_bootstrap,
        kafka_admin=infra.kafka_admin,
        mongo_url=private_ferret.url,
        topics=Topics(prefix=f"t{uuid.uuid4().hex[:8]}."),
        log_dir=paths.LOGS_DIR,
    )
    await run.create_topics()
    service = run.service("forum", AUTH_JWKS=IDS.jwks_json(), HTTP_REQUEST_TIMEOUT_S=str(DEADLINE_S))
    await asyncio.to_thread(service.start)
    try:
        yield service
    finally:
        private_ferret.resume()
        await asyncio.to_thread(service.stop)
        client = mongo.connect(infra.mongo_url, app_name="test")
        await client.drop_database(service.env["FORUM_MONGO_DB"])
        await client.close()


async def test_a_stopped_database_gives_a_quick_503_and_the_service_recovers_when_it_runs_again(
    infra: Endpoints, private_ferret: PrivateFerret, forum: ServiceProcess
) -> None:
    child = f"c{uuid.uuid4().hex[:12]}"
    topics = Topics(prefix=forum.env["FORUM_TOPIC_PREFIX"])
    await open_account(
        infra.kafka_bootstrap, credentials=infra.kafka_admin, child_id=child, lead_id=LEAD, topics=topics
    )
    board = f"{forum.url}/children/{child}/forum"
    headers = IDS.headers(LEAD)
    async with httpx.AsyncClient(timeout=30) as http:

        async def answers() -> bool:
            return (await http.get(board, headers=headers)).status_code == 200

        await eventually_async(answers, what="the lead reading the child's forum")

        private_ferret.suspend()
        started = time.perf_counter()
        stopped = await http.get(board, headers=headers)
        took = time.perf_counter() - started
        ready = await http.get(f"{forum.url}/readyz")

        assert stopped.status_code == 503, stopped.text
        assert stopped.headers["retry-after"] and took < DEADLINE_S + 1.5, f"took {took:.1f}s"
        assert ready.status_code == 503

        private_ferret.resume()
        resumed = time.monotonic()
        await eventually_async(answers, what="the forum answering again", within=10)
        assert time.monotonic() - resumed < 10
        assert (await http.get(f"{forum.url}/readyz")).status_code == 200
