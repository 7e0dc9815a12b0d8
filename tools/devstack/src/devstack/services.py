"""The application services as local processes: `<venv python> -m <module>`, configured by environment.

Each service reads `<PREFIX>KAFKA_BOOTSTRAP`, `<PREFIX>MONGO_URL`, `<PREFIX>MONGO_DB` and `<PREFIX>HTTP_PORT`
(its settings class sets the prefix), logs to stderr (kept in `.cache/run/logs/<name>.log`) and answers
`GET /readyz` with 200 once its dependencies answer. `SG_<NAME>_PORT` moves a service to another port.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from devstack import demo_accounts, infra, paths, procs, service_users
from devstack.errors import DevStackError
from devstack.infra import Endpoints

READY_TIMEOUT = 90.0
STOP_TIMEOUT = 30.0  # the services drain in-flight work for up to 20 s on SIGTERM (shared.runner)


@dataclass(frozen=True)
class Service:
    name: str
    module: str
    default_port: int
    env_prefix: str

    @property
    def port_variable(self) -> str:
        return f"SG_{self.name.upper()}_PORT"

    @property
    def port(self) -> int:
        return paths.env_port(self.port_variable, self.default_port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return paths.log_file(self.name)


REGISTRY: tuple[Service, ...] = (
    Service("accounts", "accounts", 8001, "ACCOUNTS_"),
    Service("chronology", "chronology", 8002, "CHRONOLOGY_"),
    Service("forum", "forum", 8003, "FORUM_"),
    Service("analytics", "analytics", 8004, "ANALYTICS_"),
    Service("notifications", "notifications", 8005, "NOTIFICATIONS_"),
)
WEB = Service("web", "web", 8000, "WEB_")


def all_services() -> list[Service]:
    """Every service of the checkout (the web front end once `services/web` exists)."""
    found = list(REGISTRY)
    if (paths.REPO_ROOT / "services" / "web").is_dir():
        found.append(WEB)
    return found


def select(names: Iterable[str] | None) -> list[Service]:
    known = {s.name: s for s in all_services()}
    if names is None:
        return list(known.values())
    unknown = [n for n in names if n not in known]
    if unknown:
        raise DevStackError(f"unknown service(s) {', '.join(unknown)}; known: {', '.join(known)}")
    return [known[n] for n in names]


def service_env(
    service: Service, endpoints: Endpoints, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment a service process starts with."""
    env = dict(os.environ if base is None else base)
    prefix = service.env_prefix
    env.update(
        {
            f"{prefix}KAFKA_BOOTSTRAP": endpoints.kafka_bootstrap,
            f"{prefix}MONGO_URL": endpoints.mongo_url,
            f"{prefix}MONGO_DB": service.name,
            f"{prefix}HTTP_PORT": str(service.port),
            "SG_LOG_DIR": str(paths.LOGS_DIR),
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(local_wiring(service))
    env.update(service_users.service_env(service.name, prefix))
    return env


def demo_password() -> str:
    """The demo users' password on the local stack (`SG_DEMO_PASSWORD`); never used in production."""
    return os.environ.get("SG_DEMO_PASSWORD", "safeguarding-demo")


def local_wiring(service: Service) -> dict[str, str]:
    """How the local stack's services find each other: every service trusts accounts' keys (accounts its own),
    and the web knows where its backends are and lists the demo users."""
    if service.name == "accounts":
        return {}
    urls = {s.name: s.url for s in REGISTRY}
    prefix = service.env_prefix
    wiring = {f"{prefix}AUTH_JWKS_URL": f"{urls['accounts']}/.well-known/jwks.json"}
    if service.name == "web":
        wiring |= {
            f"{prefix}ACCOUNTS_URL": urls["accounts"],
            f"{prefix}CHRONOLOGY_URL": urls["chronology"],
            f"{prefix}ANALYTICS_URL": urls["analytics"],
            f"{prefix}FORUM_URL": urls["forum"],
            f"{prefix}NOTIFICATIONS_URL": urls["notifications"],
            f"{prefix}DEMO_PASSWORD": demo_password(),
            f"{prefix}DEMO_USERS": demo_accounts.sign_in_page_users(),
        }
    if service.name == "notifications":
        wiring[f"{prefix}WEB_BASE_URL"] = WEB.url  # the links in notifications and emails
    return wiring


def ready(service: Service, timeout: float = 2.0) -> bool:
    """Whether the service answers `GET /readyz` with 200."""
    try:
        return httpx.get(f"{service.url}/readyz", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def start_services(endpoints: Endpoints, names: Iterable[str] | None = None) -> list[str]:
    """Start the services (all, or the named ones) that are not already running; wait until all are ready.

    Returns the names of the services started here. On failure, those are stopped again and the error names
    the log to read.
    """
    chosen = select(names)
    started: dict[str, procs.Proc] = {}
    try:
        for service in chosen:
            if procs.recorded(service.name) is not None:
                continue  # already running from an earlier `up`; readiness is checked below
            procs.ensure_port_free(service.port, service.port_variable)
            argv = [str(paths.venv_python()), "-m", service.module]
            env = service_env(service, endpoints)
            started[service.name] = procs.start(service.name, argv, env=env, address=service.url)
            procs.say(f"starting {service.name} on {service.url} (log {service.log})")
        wait_ready(chosen, started)
    except BaseException:
        stop_services(list(started))
        raise
    return list(started)


def wait_ready(
    chosen: list[Service], started: Mapping[str, procs.Proc], timeout: float = READY_TIMEOUT
) -> None:
    """Wait for every service's /readyz, all at once; fail on the first that dies or on the deadline."""
    pending = {s.name: s for s in chosen}
    deadline = time.monotonic() + timeout
    while pending:
        for name, service in list(pending.items()):
            proc = started.get(name) or procs.recorded(name)
            if proc is None:
                raise DevStackError(f"{name} is not running — see {service.log}")
            if not proc.alive():
                raise procs.died_error(name, proc)
            if ready(service):
                del pending[name]
        if not pending:
            return
        if time.monotonic() >= deadline:
            details = "; ".join(f"{s.name}: {s.url}/readyz, log {s.log}" for s in pending.values())
            raise DevStackError(f"not ready after {timeout:.0f}s — {details}")
        time.sleep(0.5)


def stop_services(names: Iterable[str] | None = None) -> list[str]:
    """Stop the services (all, or the named ones), the web front end first; returns what was stopped."""
    wanted = [s.name for s in all_services()] if names is None else list(names)
    # anything recorded but no longer in the registry (a service dir removed) is stopped too
    if names is None:
        wanted += [n for n in procs.recorded_names() if n not in wanted and n not in infra.COMPONENTS]
    return procs.stop_many(list(reversed(wanted)), timeout=STOP_TIMEOUT)


@dataclass(frozen=True)
class ServiceStatus:
    service: Service
    pid: int | None
    ready: bool

    @property
    def state(self) -> str:
        if self.pid is None:
            return "answering (not started by ./dev)" if self.ready else "stopped"
        return "running, ready" if self.ready else "running, NOT ready"


def services_status() -> list[ServiceStatus]:
    result: list[ServiceStatus] = []
    for service in all_services():
        proc = procs.recorded(service.name)
        result.append(ServiceStatus(service, proc.pid if proc else None, ready(service, timeout=1.0)))
    return result
