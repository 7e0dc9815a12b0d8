"""Where the local stack keeps its files, and which loopback ports it listens on.

Everything downloaded, built or run lives under the checkout's `.cache/` (gitignored), except PostgreSQL's
data: the server runs as the `postgres` user, who must be able to enter every folder above its data, and a
checkout may sit under a folder only root can enter (`/root` is mode 700). So PostgreSQL gets a folder of its
own under `/var/tmp`, named after a hash of the checkout's path so that two checkouts never share one.
"""

from __future__ import annotations

import hashlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from devstack.errors import DevStackError


def _find_repo_root() -> Path:
    override = os.environ.get("SG_REPO_ROOT")
    if override:
        return Path(override).resolve()
    # tools/devstack/src/devstack/paths.py -> the checkout (the workspace packages are installed editable)
    here = Path(__file__).resolve().parents[4]
    if (here / "infra" / "kafka" / "pom.xml").is_file():
        return here
    for candidate in (Path.cwd(), *Path.cwd().parents):
        if (candidate / "infra" / "kafka" / "pom.xml").is_file():
            return candidate
    return Path.cwd()  # not in a checkout (an installed copy): commands that need one say so


REPO_ROOT = _find_repo_root()
CACHE_DIR = REPO_ROOT / ".cache"
RUN_DIR = CACHE_DIR / "run"
LOGS_DIR = RUN_DIR / "logs"
PIDS_DIR = RUN_DIR / "pids"
BIN_DIR = CACHE_DIR / "bin"

KAFKA_POM = REPO_ROOT / "infra" / "kafka" / "pom.xml"
KAFKA_LIBS_DIR = CACHE_DIR / "kafka" / "libs"
MAVEN_REPO_DIR = CACHE_DIR / "m2"
KAFKA_RUN_DIR = RUN_DIR / "kafka"

FERRETDB_SRC_DIR = REPO_ROOT / "infra" / "ferretdb"
FERRETDB_BIN = BIN_DIR / "ferretdb"
GO_MOD_CACHE = CACHE_DIR / "go" / "mod"
GO_BUILD_CACHE = CACHE_DIR / "go" / "build"


def checkout_tag() -> str:
    """A short stable name for this checkout, so that folders outside it never collide with another's."""
    return hashlib.sha256(str(REPO_ROOT).encode()).hexdigest()[:10]


def pg_base_dir() -> Path:
    """PostgreSQL's own folder, outside the checkout (see the module docstring); SG_PG_DIR overrides it."""
    override = os.environ.get("SG_PG_DIR")
    if override:
        return Path(override).resolve()
    return Path("/var/tmp") / f"safeguarding-{checkout_tag()}"


def venv_python() -> Path:
    """The interpreter of the project's virtualenv (the one running this code when started by ./dev)."""
    candidate = REPO_ROOT / ".venv" / "bin" / "python"
    return candidate if candidate.exists() else Path(sys.executable)


def log_file(name: str) -> Path:
    return LOGS_DIR / f"{name}.log"


def env_port(variable: str, default: int) -> int:
    """A TCP port from the environment, validated, or the default."""
    raw = os.environ.get(variable, "").strip()
    if not raw:
        return default
    try:
        port = int(raw)
    except ValueError:
        raise DevStackError(f"{variable}={raw!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise DevStackError(f"{variable}={port} is outside 1-65535")
    return port


@dataclass(frozen=True)
class Ports:
    """The loopback ports of the infrastructure servers.

    `kafka` is the services' listener, where each service signs in as its own SCRAM-SHA-512 user and the dev
    stack as the administrator; `kafka_sasl` is the agency systems' listener (SCRAM-SHA-512). Kafka's ACLs
    apply on both; `kafka_controller` is KRaft's, for the broker and the administrator only (devstack.kafka).
    """

    kafka: int
    kafka_controller: int
    postgres: int
    mongo: int
    kafka_sasl: int = 29094

    @classmethod
    def from_env(cls) -> Ports:
        ports = cls(
            kafka=env_port("SG_KAFKA_PORT", 29092),
            kafka_controller=env_port("SG_KAFKA_CONTROLLER_PORT", 29093),
            postgres=env_port("SG_PG_PORT", 25432),
            mongo=env_port("SG_MONGO_PORT", 27027),
            kafka_sasl=env_port("SG_KAFKA_SASL_PORT", 29094),
        )
        values = [ports.kafka, ports.kafka_controller, ports.postgres, ports.mongo, ports.kafka_sasl]
        if len(set(values)) != len(values):
            raise DevStackError(
                "SG_KAFKA_PORT, SG_KAFKA_CONTROLLER_PORT, SG_PG_PORT, SG_MONGO_PORT and SG_KAFKA_SASL_PORT"
                " must differ; got " + ", ".join(map(str, values))
            )
        return ports

    @property
    def kafka_bootstrap(self) -> str:
        return f"127.0.0.1:{self.kafka}"

    @property
    def kafka_sasl_bootstrap(self) -> str:
        """Where agency systems connect (SASL_PLAINTEXT, SCRAM-SHA-512)."""
        return f"127.0.0.1:{self.kafka_sasl}"

    @property
    def mongo_url(self) -> str:
        return f"mongodb://127.0.0.1:{self.mongo}/"
