"""A local Apache Kafka 4.1.1 broker in KRaft mode: one combined broker+controller on loopback.

The jars come from Maven Central through `infra/kafka/pom.xml` (resolved once into `.cache/kafka/libs`); the
broker's configuration is generated into `.cache/run/kafka/`, its data lives in `.cache/run/kafka/data`.

Three listeners, all SASL_PLAINTEXT, with Kafka's own ACLs (StandardAuthorizer, deny when no ACL matches):

- SERVICES (`SG_KAFKA_PORT`): the services, each as its own SCRAM-SHA-512 user (devstack.service_users),
  and the dev stack's administrator; also the inter-broker listener;
- CONTROLLER (`SG_KAFKA_CONTROLLER_PORT`): KRaft, administrator only;
- SASL_PLAINTEXT (`SG_KAFKA_SASL_PORT`): agency systems, SCRAM-SHA-512 only (devstack.agencies).

Nothing is unauthenticated, so nothing is User:ANONYMOUS. The one super user is the administrator, a static
PLAIN user in the broker's JAAS configuration: it has to exist before any SCRAM credential can be created
(SCRAM credentials live in the metadata log), and KRaft's controller listener does not support SCRAM. It
creates the topics, the SCRAM users and their ACLs once the broker answers.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import logging
import os
import shutil
import uuid
from pathlib import Path

from devstack import paths, procs
from devstack.errors import DevStackError
from devstack.paths import Ports
from shared.kafka.auth import KafkaCredentials

NAME = "kafka"
SASL_MECHANISM = "SCRAM-SHA-512"
ADMIN_USER = "admin"
START_TIMEOUT = 90.0
JAVA_OPTS = (
    "-Xms256m",
    "-Xmx512m",
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djava.awt.headless=true",
    # slf4j-simple (the SLF4J 1.x binding the pom adds) writes to stderr, which goes to the log file.
    "-Dorg.slf4j.simpleLogger.showDateTime=true",
    "-Dorg.slf4j.simpleLogger.dateTimeFormat=yyyy-MM-dd HH:mm:ss.SSS",
    "-Dorg.slf4j.simpleLogger.defaultLogLevel=info",
    "-Dorg.slf4j.simpleLogger.log.org.apache.kafka.clients=warn",
    "-Dorg.slf4j.simpleLogger.log.org.apache.kafka.common.utils.AppInfoParser=warn",
    "-Dorg.slf4j.simpleLogger.log.kafka.utils.Log4jControllerRegistration$=warn",
    # per-partition chatter on every topic created (tests create many); topic creation itself stays logged
    "-Dorg.slf4j.simpleLogger.log.state.change.logger=warn",
    "-Dorg.slf4j.simpleLogger.log.kafka.cluster.Partition=warn",
    "-Dorg.slf4j.simpleLogger.log.kafka.log.LogManager=warn",
    "-Dorg.slf4j.simpleLogger.log.org.apache.kafka.storage.internals.log=warn",
    "-Dorg.slf4j.simpleLogger.log.org.apache.kafka.coordinator.common.runtime.CoordinatorRuntime=warn",
)


def data_dir() -> Path:
    return paths.KAFKA_RUN_DIR / "data"


def config_file() -> Path:
    return paths.KAFKA_RUN_DIR / "server.properties"


def classpath() -> str:
    return f"{paths.KAFKA_LIBS_DIR}/*"


# --- jars -----------------------------------------------------------------------------------------------------


def _pom_digest() -> str:
    return hashlib.sha256(paths.KAFKA_POM.read_bytes()).hexdigest()


def jars_ready() -> bool:
    stamp = paths.KAFKA_LIBS_DIR / ".pom-sha256"
    return stamp.is_file() and stamp.read_text().strip() == _pom_digest()


def ensure_jars() -> None:
    """Resolve the broker's jars from Maven Central once (about 40 s cold); later runs find them cached."""
    if jars_ready():
        return
    if not paths.KAFKA_POM.is_file():
        raise DevStackError(f"{paths.KAFKA_POM} is missing: run the dev tool from a checkout of the project")
    mvn = procs.require_tool("mvn", "install Maven (apt-get install maven) to fetch the Kafka jars")
    procs.say("fetching the Kafka 4.1.1 jars from Maven Central (once; cached in .cache/kafka/libs)")
    staging = paths.KAFKA_LIBS_DIR.with_name("libs.partial")
    shutil.rmtree(staging, ignore_errors=True)
    procs.run_logged(
        [
            mvn,
            "-q",
            "-B",
            "-f",
            str(paths.KAFKA_POM),
            f"-Dmaven.repo.local={paths.MAVEN_REPO_DIR}",
            "dependency:copy-dependencies",
            f"-DoutputDirectory={staging}",
        ],
        what="resolving the Kafka jars with Maven",
        log=paths.log_file("kafka-maven"),
        timeout=900,
    )
    if not any(staging.glob("kafka_2.13-*.jar")):
        raise DevStackError(
            f"Maven finished but no kafka_2.13 jar is in {staging} — see {paths.log_file('kafka-maven')}"
        )
    (staging / ".pom-sha256").write_text(_pom_digest())
    shutil.rmtree(paths.KAFKA_LIBS_DIR, ignore_errors=True)
    staging.replace(paths.KAFKA_LIBS_DIR)


# --- configuration and storage --------------------------------------------------------------------------------


def admin_credentials() -> KafkaCredentials:
    """The local broker's administrator, its one super user: `SG_KAFKA_ADMIN_PASSWORD` or `dev-admin-secret`
    (a local-stack password; production's is the council's)."""
    password = os.environ.get("SG_KAFKA_ADMIN_PASSWORD", "").strip() or "dev-admin-secret"
    if any(c in password for c in '\\";') or not password.isprintable():
        raise DevStackError(
            "SG_KAFKA_ADMIN_PASSWORD may not contain quotes, backslashes, ';' or control characters"
        )
    return KafkaCredentials(ADMIN_USER, password, mechanism="PLAIN")


def _jaas(admin: KafkaCredentials | None) -> str:
    """A listener's login module: PLAIN with the administrator as its only user, or SCRAM (users in metadata)."""
    if admin is None:
        return "org.apache.kafka.common.security.scram.ScramLoginModule required;"
    return (
        "org.apache.kafka.common.security.plain.PlainLoginModule required "
        f'username="{admin.user}" password="{admin.password}" user_{admin.user}="{admin.password}";'
    )


def server_properties(ports: Ports, log_dir: Path, admin: KafkaCredentials | None = None) -> str:
    """The broker's configuration: one node that is both broker and (static, single-voter) controller."""
    admin = admin or admin_credentials()
    scram = SASL_MECHANISM.lower()
    settings = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@127.0.0.1:{ports.kafka_controller}",
        "listeners": (
            f"SERVICES://127.0.0.1:{ports.kafka},CONTROLLER://127.0.0.1:{ports.kafka_controller},"
            f"SASL_PLAINTEXT://127.0.0.1:{ports.kafka_sasl}"
        ),
        "advertised.listeners": f"SERVICES://127.0.0.1:{ports.kafka},SASL_PLAINTEXT://127.0.0.1:{ports.kafka_sasl}",
        "listener.security.protocol.map": (
            "SERVICES:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT"
        ),
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "SERVICES",
        "sasl.mechanism.inter.broker.protocol": "PLAIN",
        "sasl.mechanism.controller.protocol": "PLAIN",
        # Services: their SCRAM users, and the administrator (PLAIN) for the dev stack and the broker itself.
        "listener.name.services.sasl.enabled.mechanisms": f"{SASL_MECHANISM},PLAIN",
        f"listener.name.services.{scram}.sasl.jaas.config": _jaas(None),
        "listener.name.services.plain.sasl.jaas.config": _jaas(admin),
        # KRaft's controller listener cannot use SCRAM (its credentials are in the log it serves): PLAIN.
        "listener.name.controller.sasl.enabled.mechanisms": "PLAIN",
        "listener.name.controller.plain.sasl.jaas.config": _jaas(admin),
        # Agency systems: SCRAM-SHA-512 only; no administrator here.
        "listener.name.sasl_plaintext.sasl.enabled.mechanisms": SASL_MECHANISM,
        f"listener.name.sasl_plaintext.{scram}.sasl.jaas.config": _jaas(None),
        # Kafka's own ACLs, on every listener; what no ACL allows is denied. Only the administrator is exempt.
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "allow.everyone.if.no.acl.found": "false",
        "super.users": f"User:{admin.user}",
        "log.dirs": str(log_dir),
        "num.partitions": "6",
        "default.replication.factor": "1",
        "min.insync.replicas": "1",
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "10",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "transaction.state.log.num.partitions": "4",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "group.initial.rebalance.delay.ms": "0",
        "auto.create.topics.enable": "true",
        "delete.topic.enable": "true",
        "log.retention.hours": "168",
        "num.network.threads": "2",
        "num.io.threads": "4",
    }
    lines = ["# Generated by devstack.kafka on every start; edit that module, not this file."]
    lines += [f"{key}={value}" for key, value in settings.items()]
    return "\n".join(lines) + "\n"


def new_cluster_id() -> str:
    """A Kafka cluster id: 16 random bytes in URL-safe base64 without padding, not starting with '-'."""
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cid.startswith("-"):
            return cid


def _ensure_formatted(java: str) -> None:
    if (data_dir() / "meta.properties").is_file():
        return
    shutil.rmtree(data_dir(), ignore_errors=True)
    procs.run_logged(
        [
            java,
            "-cp",
            classpath(),
            "kafka.tools.StorageTool",
            "format",
            "-t",
            new_cluster_id(),
            "-c",
            str(config_file()),
        ],
        what="formatting the Kafka storage (kafka.tools.StorageTool format)",
        log=paths.log_file("kafka-format"),
        timeout=120,
    )


class _ClearPasswordOnLoopback(logging.Filter):
    """aiokafka warns on every PLAIN sign-in without TLS; on the loopback-only local broker that is known."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != "Sending username and password in the clear"


def _quiet_plain_warning() -> None:
    logger = logging.getLogger("aiokafka.conn")
    if not any(isinstance(f, _ClearPasswordOnLoopback) for f in logger.filters):
        logger.addFilter(_ClearPasswordOnLoopback())


# --- health ---------------------------------------------------------------------------------------------------


async def _answers(bootstrap: str, limit: float) -> bool:
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap,
        request_timeout_ms=int(limit * 1000),
        connections_max_idle_ms=60_000,
        **admin_credentials().aiokafka(),
    )
    try:
        await asyncio.wait_for(admin.start(), limit)
        await asyncio.wait_for(admin.list_topics(), limit)
        return True
    except Exception:
        return False
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(admin.close(), limit)


def healthy(bootstrap: str, timeout: float = 3.0) -> bool:
    """Whether a broker answers the administrator's metadata request at `bootstrap` (an old broker whose
    listener does not authenticate does not: restart it)."""
    _quiet_plain_warning()
    host, _, port = bootstrap.rpartition(":")
    if not procs.port_open(int(port), host or "127.0.0.1"):
        return False
    return asyncio.run(_answers(bootstrap, timeout))


def create_topics(bootstrap: str, timeout: float = 60.0) -> list[str]:
    """Create the system's topics (shared.topics), retrying while the new broker settles."""
    from shared.topics import ensure_topics

    _quiet_plain_warning()

    async def attempt() -> list[str] | None:
        try:
            return await asyncio.wait_for(ensure_topics(bootstrap, credentials=admin_credentials()), 20)
        except Exception:
            return None

    result: list[list[str]] = []

    def created() -> bool:
        names = asyncio.run(attempt())
        if names is None:
            return False
        result.append(names)
        return True

    procs.wait_until(created, what=f"creating the Kafka topics on {bootstrap}", timeout=timeout, interval=1.0)
    return result[0]


# --- start ----------------------------------------------------------------------------------------------------


def start(ports: Ports) -> procs.Proc | None:
    """Start the broker unless it already runs and answers; returns the process when started here."""
    if procs.reuse(
        NAME, ports.kafka_bootstrap, lambda: healthy(ports.kafka_bootstrap), lambda: procs.stop(NAME)
    ):
        return None
    java = procs.require_tool("java", "install a Java 17+ runtime (apt-get install openjdk-17-jre-headless)")
    ensure_jars()
    procs.ensure_port_free(ports.kafka, "SG_KAFKA_PORT")
    procs.ensure_port_free(ports.kafka_controller, "SG_KAFKA_CONTROLLER_PORT")
    procs.ensure_port_free(ports.kafka_sasl, "SG_KAFKA_SASL_PORT")
    paths.KAFKA_RUN_DIR.mkdir(parents=True, exist_ok=True)
    config_file().write_text(server_properties(ports, data_dir()))
    _ensure_formatted(java)
    env = dict(os.environ)
    env.pop("KAFKA_OPTS", None)
    env.pop("CLASSPATH", None)
    proc = procs.start(
        NAME, [java, *JAVA_OPTS, "-cp", classpath(), "kafka.Kafka", str(config_file())], env=env
    )
    procs.say(
        f"starting Kafka on {ports.kafka_bootstrap} (agencies: SASL on {ports.kafka_sasl_bootstrap}; "
        f"pid {proc.pid}, log {proc.log})"
    )
    procs.wait_until(
        lambda: (
            procs.port_open(ports.kafka)
            and procs.port_open(ports.kafka_sasl)
            and healthy(ports.kafka_bootstrap)
        ),
        what="Kafka",
        timeout=START_TIMEOUT,
        proc=proc,
        interval=0.5,
    )
    return proc
