"""The infrastructure as one unit: Kafka, PostgreSQL and FerretDB, started in order, reused when running."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from devstack import agencies, ferretdb, kafka, paths, postgres, procs, service_users
from devstack.paths import Ports
from shared.kafka.auth import KafkaCredentials

# Start order; stop order is the reverse (FerretDB before the PostgreSQL it holds connections to).
COMPONENTS: tuple[str, ...] = (kafka.NAME, postgres.NAME, ferretdb.NAME)
LOCK = paths.RUN_DIR / "infra.lock"


@dataclass(frozen=True)
class Endpoints:
    """Where the infrastructure answers; `kafka_bootstrap` is the services' listener, where the dev stack
    itself (topics, users, tests' own clients) signs in as `kafka_admin`."""

    kafka_bootstrap: str
    mongo_url: str
    kafka_admin: KafkaCredentials

    def librdkafka(self) -> dict[str, str]:
        """confluent-kafka settings for a test's or a tool's own client: the services' listener, as the
        administrator (who may read and write every topic)."""
        return {"bootstrap.servers": self.kafka_bootstrap, **self.kafka_admin.librdkafka()}

    def kafka_user(self, service: str) -> KafkaCredentials:
        """The broker credentials `service` signs in with on the local stack (devstack.service_users)."""
        return service_users.credentials(service)


@dataclass(frozen=True)
class ComponentStatus:
    name: str
    pid: int | None
    healthy: bool
    address: str
    log: Path

    @property
    def state(self) -> str:
        if self.pid is None:
            return "answering (not started by ./dev)" if self.healthy else "stopped"
        return "running, healthy" if self.healthy else "running, NOT answering"


def endpoints(ports: Ports | None = None) -> Endpoints:
    ports = ports or Ports.from_env()
    return Endpoints(
        kafka_bootstrap=ports.kafka_bootstrap,
        mongo_url=ports.mongo_url,
        kafka_admin=kafka.admin_credentials(),
    )


def ensure_infra() -> tuple[Endpoints, list[str]]:
    """Start whatever part of the infrastructure is not running; returns the endpoints and what was started."""
    ports = Ports.from_env()
    started: list[str] = []
    with procs.file_lock(LOCK, what="starting the infrastructure"):
        try:
            if kafka.start(ports) is not None:
                started.append(kafka.NAME)
            if postgres.start(ports) is not None:
                started.append(postgres.NAME)
                if procs.stop(ferretdb.NAME):  # its connections went with the old server
                    procs.say("restarting FerretDB on the new PostgreSQL server")
            if ferretdb.start(ports) is not None:
                started.append(ferretdb.NAME)
            created = kafka.create_topics(ports.kafka_bootstrap)
            access = _agency_access(ports)
            services = service_users.ensure_service_access(ports.kafka_bootstrap)
        except BaseException:
            _stop(started)  # leave nothing half-started behind
            raise
    if created:
        procs.say(f"created {len(created)} Kafka topics")
    if access is not None and (access.created or access.deleted):
        procs.say(
            f"agency users {', '.join(access.users)} on {ports.kafka_sasl_bootstrap} (SASL/SCRAM-SHA-512): "
            f"{access.created} ACLs created, {access.deleted} removed"
        )
    if services.created or services.deleted:
        procs.say(
            f"service users {', '.join(services.users)} on {ports.kafka_bootstrap} (SASL/SCRAM-SHA-512): "
            f"{services.created} ACLs created, {services.deleted} removed"
        )
    return endpoints(ports), started


def _agency_access(ports: Ports) -> agencies.AccessReport | None:
    """One SCRAM user per agency, allowed only its own topics (devstack.agencies); idempotent."""
    if not procs.port_open(ports.kafka_sasl):
        procs.say(
            f"warning: Kafka has no agency SASL listener on {ports.kafka_sasl_bootstrap} (it was started with "
            "an older configuration), so no agency users were created: ./dev down && ./dev infra restarts it"
        )
        return None
    return agencies.ensure_agency_access(ports.kafka_bootstrap)


def start_infra() -> Endpoints:
    """Start Kafka, PostgreSQL and FerretDB (reusing any that already run and answer); idempotent."""
    return ensure_infra()[0]


def _stop(names: list[str]) -> list[str]:
    stopped: list[str] = []
    for name in reversed(COMPONENTS):
        if name not in names:
            continue
        was_running = postgres.stop() if name == postgres.NAME else procs.stop(name)
        if was_running:
            stopped.append(name)
    return stopped


def stop_infra(components: list[str] | None = None) -> list[str]:
    """Stop the infrastructure servers this tool started (all, or the named ones); returns what was stopped."""
    with procs.file_lock(LOCK, what="stopping the infrastructure"):
        return _stop(list(COMPONENTS) if components is None else components)


def _answers(name: str, address: str) -> bool:
    if name == kafka.NAME:
        return kafka.healthy(address)
    if name == postgres.NAME:
        return postgres.healthy(int(address.rsplit(":", 1)[1]))
    return ferretdb.healthy(address)


def infra_status() -> list[ComponentStatus]:
    """Each server: recorded pid, whether it answers (where it was started, else where it would be), its log."""
    ports = Ports.from_env()
    wanted = {
        kafka.NAME: ports.kafka_bootstrap,
        postgres.NAME: postgres.address(ports),
        ferretdb.NAME: ports.mongo_url,
    }
    result: list[ComponentStatus] = []
    for name in COMPONENTS:
        proc = procs.recorded(name)
        address = proc.address if proc is not None and proc.address else wanted[name]
        shown = f"{address} (data {postgres.data_dir()})" if name == postgres.NAME else address
        result.append(
            ComponentStatus(
                name=name,
                pid=proc.pid if proc else None,
                healthy=_answers(name, address),
                address=shown,
                log=paths.log_file(name),
            )
        )
    return result
