"""A service run as a real process for end-to-end tests: its own database, consumer group and port."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import IO

import httpx

from devstack import service_users
from devstack.infra import Endpoints
from shared.kafka.auth import KafkaCredentials
from shared.topics import Topics, ensure_topics


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


PORT_ATTEMPTS = 3


class PortTaken(Exception):
    """The port picked for a service was taken by another process before the service could bind it."""


class ServiceProcess:
    """`python -m <module>` with settings in the environment; logs to `<log_dir>/<name>.log`. It signs in to
    the broker as its own local-stack user (devstack.service_users)."""

    def __init__(
        self,
        module: str,
        *,
        kafka_bootstrap: str,
        mongo_url: str,
        database: str,
        group_suffix: str,
        log_dir: Path,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.module = module
        self.port = free_port()
        prefix = module.upper() + "_"
        self.env = {
            **os.environ,
            prefix + "KAFKA_BOOTSTRAP": kafka_bootstrap,
            prefix + "MONGO_URL": mongo_url,
            prefix + "MONGO_DB": database,
            prefix + "HTTP_PORT": str(self.port),
            prefix + "CONSUMER_GROUP_SUFFIX": group_suffix,
            **service_users.service_env(module, prefix),
            **(extra_env or {}),
        }
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"{module}-{self.port}.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, ready_within: float = 60.0) -> ServiceProcess:
        """Start and wait for readiness. The free port was only free when it was picked: if another process
        took it meanwhile, start again on a new one (a few times), rather than fail the test."""
        for _ in range(PORT_ATTEMPTS - 1):
            try:
                return self._start(ready_within)
            except PortTaken:
                self.port = free_port()
                self.env[self.module.upper() + "_HTTP_PORT"] = str(self.port)
        return self._start(ready_within)

    def _start(self, ready_within: float) -> ServiceProcess:
        self._log = self.log_path.open("ab")
        logged_from = self.log_path.stat().st_size
        self._proc = subprocess.Popen(
            [sys.executable, "-m", self.module], env=self.env, stdout=self._log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + ready_within
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                self._log.close()
                if b"address already in use" in self.log_path.read_bytes()[logged_from:]:
                    raise PortTaken(self.port)
                raise RuntimeError(f"{self.module} exited with {self._proc.returncode}; see {self.log_path}")
            try:
                if httpx.get(self.url + "/readyz", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.kill()
        raise TimeoutError(f"{self.module} was not ready within {ready_within}s; see {self.log_path}")

    def kill(self) -> None:
        """SIGKILL: the crash case, nothing gets to clean up."""
        self._signal(signal.SIGKILL)

    def stop(self) -> None:
        """SIGTERM: the graceful stop."""
        self._signal(signal.SIGTERM)

    def _signal(self, sig: signal.Signals) -> None:
        if self._proc and self._proc.poll() is None:
            self._proc.send_signal(sig)
            try:
                self._proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=10)
        if self._log:
            self._log.close()
            self._log = None

    @property
    def pid(self) -> int:
        assert self._proc is not None, "not started"
        return self._proc.pid

    @property
    def returncode(self) -> int | None:
        return self._proc.poll() if self._proc else None


def wait_for(
    check: Callable[[], bool], *, within: float = 60.0, what: str, explain: Callable[[], str] | None = None
) -> None:
    """Poll `check` until it holds, or fail saying what never happened (and, if given, the last answer)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    hint = f"; last answer: {explain()}" if explain else ""
    raise AssertionError(f"timed out after {within:.0f}s waiting for {what}{hint}")


class IsolatedRun:
    """Services of one test module or benchmark run: databases, consumer groups and topics of their own."""

    def __init__(
        self,
        *,
        kafka_bootstrap: str,
        kafka_admin: KafkaCredentials,
        mongo_url: str,
        topics: Topics,
        log_dir: Path,
    ) -> None:
        self.id = uuid.uuid4().hex[:8]
        self.kafka_bootstrap = kafka_bootstrap
        self.kafka_admin = kafka_admin
        self.mongo_url = mongo_url
        self.topics = topics
        self.log_dir = log_dir

    @classmethod
    def with_topics(cls, infra: Endpoints, *, topics: Topics, log_dir: Path) -> IsolatedRun:
        """A run on the dev stack's servers (`infra`), its topics created and granted."""
        run = cls(
            kafka_bootstrap=infra.kafka_bootstrap,
            kafka_admin=infra.kafka_admin,
            mongo_url=infra.mongo_url,
            topics=topics,
            log_dir=log_dir,
        )
        asyncio.run(run.create_topics())
        return run

    async def create_topics(self) -> None:
        """Create the run's topics, and give each service's user its rights on them (the broker's ACLs name
        topics in full, so a run's prefixed topics need their own)."""
        await ensure_topics(self.kafka_bootstrap, self.topics.all(), credentials=self.kafka_admin)
        service_users.grant_run(self.kafka_bootstrap, self.topics)

    def service(self, name: str, **settings: str) -> ServiceProcess:
        """`python -m <name>` for this run; `settings` are its own (prefix added: AUTH_JWKS_URL=...)."""
        prefix = name.upper() + "_"
        return ServiceProcess(
            name,
            kafka_bootstrap=self.kafka_bootstrap,
            mongo_url=self.mongo_url,
            database=f"test_{name}_{self.id}",
            group_suffix=f"-test-{self.id}",
            log_dir=self.log_dir,
            extra_env={
                prefix + "TOPIC_PREFIX": self.topics.prefix,
                **{prefix + k: v for k, v in settings.items()},
            },
        )
