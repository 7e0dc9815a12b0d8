"""Unit tests of the dev stack's pure helpers and of its process handling (with `sleep`, no servers)."""

from __future__ import annotations

import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack import acls, agencies, kafka, paths, procs, service_users, services
from devstack.errors import DevStackError
from devstack.infra import Endpoints
from devstack.paths import Ports
from shared.kafka.auth import KafkaCredentials
from shared.topics import AGENCIES, Topics

PORT_VARIABLES = (
    "SG_KAFKA_PORT",
    "SG_KAFKA_CONTROLLER_PORT",
    "SG_PG_PORT",
    "SG_MONGO_PORT",
    "SG_KAFKA_SASL_PORT",
)


@pytest.fixture
def default_ports(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in PORT_VARIABLES:
        monkeypatch.delenv(variable, raising=False)


@pytest.fixture
def run_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setattr(paths, "PIDS_DIR", tmp_path / "pids")
    monkeypatch.setattr(paths, "LOGS_DIR", tmp_path / "logs")
    yield tmp_path
    for name in procs.recorded_names():
        procs.stop(name, timeout=2)


def test_ports_default_to_the_documented_values(default_ports: None) -> None:
    ports = Ports.from_env()
    assert (ports.kafka, ports.kafka_controller, ports.postgres, ports.mongo) == (29092, 29093, 25432, 27027)
    assert ports.kafka_sasl == 29094
    assert ports.kafka_bootstrap == "127.0.0.1:29092"
    assert ports.kafka_sasl_bootstrap == "127.0.0.1:29094"
    assert ports.mongo_url == "mongodb://127.0.0.1:27027/"


def test_a_port_variable_moves_a_server(default_ports: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SG_MONGO_PORT", "37017")
    assert Ports.from_env().mongo_url == "mongodb://127.0.0.1:37017/"


@pytest.mark.parametrize("value", ["abc", "0", "70000"])
def test_a_bad_port_variable_is_named_in_the_error(
    default_ports: None, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("SG_PG_PORT", value)
    with pytest.raises(DevStackError, match="SG_PG_PORT"):
        Ports.from_env()


def test_two_servers_on_one_port_are_refused(default_ports: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SG_PG_PORT", "29092")
    with pytest.raises(DevStackError, match="must differ"):
        Ports.from_env()


def test_the_sasl_listener_needs_a_port_of_its_own(
    default_ports: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SG_KAFKA_SASL_PORT", "29093")
    with pytest.raises(DevStackError, match="SG_KAFKA_SASL_PORT must differ"):
        Ports.from_env()
    monkeypatch.setenv("SG_KAFKA_SASL_PORT", "39094")
    assert agencies.sasl_bootstrap() == "127.0.0.1:39094"


def test_postgres_lives_outside_the_checkout_in_a_folder_named_after_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SG_PG_DIR", raising=False)
    base = paths.pg_base_dir()
    assert base.parent == Path("/var/tmp")
    assert base.name == f"safeguarding-{paths.checkout_tag()}"
    assert paths.REPO_ROOT not in base.parents


def test_broker_config_is_one_node_broker_and_controller_on_loopback(default_ports: None) -> None:
    text = kafka.server_properties(Ports.from_env(), Path("/data/kafka"))
    settings = dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))
    assert settings["process.roles"] == "broker,controller"
    assert settings["controller.quorum.voters"] == "1@127.0.0.1:29093"
    assert settings["listeners"] == (
        "SERVICES://127.0.0.1:29092,CONTROLLER://127.0.0.1:29093,SASL_PLAINTEXT://127.0.0.1:29094"
    )
    assert settings["log.dirs"] == "/data/kafka"
    assert settings["offsets.topic.replication.factor"] == "1"
    assert settings["transaction.state.log.replication.factor"] == "1"
    assert settings["group.initial.rebalance.delay.ms"] == "0"
    assert settings["num.partitions"] == "6"
    assert settings["auto.create.topics.enable"] == "true"


def test_every_listener_authenticates_and_only_the_administrator_is_a_super_user(default_ports: None) -> None:
    admin = KafkaCredentials("admin", "pw", mechanism="PLAIN")
    text = kafka.server_properties(Ports.from_env(), Path("/data/kafka"), admin)
    settings = dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))
    assert settings["advertised.listeners"] == "SERVICES://127.0.0.1:29092,SASL_PLAINTEXT://127.0.0.1:29094"
    protocols = dict(pair.split(":") for pair in settings["listener.security.protocol.map"].split(","))
    assert protocols == {
        "SERVICES": "SASL_PLAINTEXT",
        "CONTROLLER": "SASL_PLAINTEXT",
        "SASL_PLAINTEXT": "SASL_PLAINTEXT",
    }
    assert settings["inter.broker.listener.name"] == "SERVICES"
    assert settings["listener.name.services.sasl.enabled.mechanisms"] == "SCRAM-SHA-512,PLAIN"
    assert settings["listener.name.controller.sasl.enabled.mechanisms"] == "PLAIN"
    assert settings["listener.name.sasl_plaintext.sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    assert settings["listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config"] == (
        "org.apache.kafka.common.security.scram.ScramLoginModule required;"
    )
    assert settings["listener.name.controller.plain.sasl.jaas.config"] == (
        'org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="pw" '
        'user_admin="pw";'
    )
    assert "user_" not in settings["listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config"]
    assert settings["authorizer.class.name"] == "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    assert settings["allow.everyone.if.no.acl.found"] == "false"
    assert settings["super.users"] == "User:admin"


def test_an_administrator_password_that_would_break_the_broker_config_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SG_KAFKA_ADMIN_PASSWORD", 'a"; user_evil="x')
    with pytest.raises(DevStackError, match="SG_KAFKA_ADMIN_PASSWORD"):
        kafka.admin_credentials()


def test_each_service_may_write_only_its_own_topics_and_read_what_it_consumes() -> None:
    writes = {
        s: {g.name for g in service_users.grants(s) if g.operation == "WRITE"} for s in service_users.SERVICES
    }
    assert writes["accounts"] == {
        "accounts.events",
        "identity.events",
        "audit.events",
        "audit.events.deadletter",
        "accounts.events.deadletter",
        *(f"contacts.{a}.deadletter" for a in AGENCIES),
    }
    assert writes["chronology"] == {
        "chronology.events",
        "audit.events",
        "identity.events.deadletter",
        "accounts.events.deadletter",
        "forum.events.deadletter",
        *(f"contacts.{a}.deadletter" for a in AGENCIES),
    }
    assert writes["forum"] == {"forum.events", "audit.events", "accounts.events.deadletter"}
    assert writes["notifications"] == {
        "audit.events",
        *(
            f"{t}.deadletter"
            for t in (
                "accounts.events",
                "identity.events",
                "chronology.events",
                "audit.events",
                "forum.events",
            )
        ),
        *(f"contacts.{a}.deadletter" for a in AGENCIES),
    }
    assert not any(f"contacts.{a}" in w for a in AGENCIES for w in writes.values())
    assert {g for g in service_users.grants("forum") if g.resource == "GROUP"} == {
        acls.Grant("GROUP", "forum", "PREFIXED", "READ")
    }
    reads = {g.name for g in service_users.grants("chronology") if g.operation == "READ"}
    assert "audit.events" not in reads and "accounts.events" in reads


def test_a_runs_own_topics_get_the_same_grants_under_its_prefix() -> None:
    plain = service_users.grants("analytics")
    prefixed = service_users.grants("analytics", Topics("t1."))
    assert {(g.resource, g.name if g.resource == "GROUP" else "t1." + g.name) for g in plain} == {
        (g.resource, g.name) for g in prefixed
    }


def test_the_web_has_no_kafka_user_and_a_service_gets_its_own() -> None:
    assert service_users.service_env("web", "WEB_") == {}
    assert service_users.service_env("forum", "FORUM_") == {
        "FORUM_KAFKA_USER": "forum",
        "FORUM_KAFKA_PASSWORD": service_users.credentials("forum").password,
    }


def test_agency_passwords_are_local_defaults_unless_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SG_AGENCY_PASSWORD_POLICE", raising=False)
    assert agencies.agency_credentials("police") == ("police", "dev-police-secret")
    monkeypatch.setenv("SG_AGENCY_PASSWORD_POLICE", "s3cret")
    assert agencies.agency_credentials("police") == ("police", "s3cret")
    assert agencies.password_variable("socialcare") == "SG_AGENCY_PASSWORD_SOCIALCARE"
    with pytest.raises(DevStackError, match="unknown agency 'fire'"):
        agencies.agency_credentials("fire")


def test_an_agency_writes_its_topic_and_reads_only_its_rejections() -> None:
    assert set(agencies.grants("school")) == {
        acls.Grant("TOPIC", "contacts.school", "LITERAL", "WRITE"),
        acls.Grant("TOPIC", "contacts.school", "LITERAL", "DESCRIBE"),
        acls.Grant("TOPIC", "contacts.school.deadletter", "LITERAL", "READ"),
        acls.Grant("TOPIC", "contacts.school.deadletter", "LITERAL", "DESCRIBE"),
        acls.Grant("GROUP", "school-", "PREFIXED", "READ"),
    }
    for agency in ("health", "police", "socialcare", "housing", "voluntary"):
        names = {g.name for g in agencies.grants(agency)}
        assert names == {f"contacts.{agency}", f"contacts.{agency}.deadletter", f"{agency}-"}


def test_an_agency_client_connects_to_the_sasl_listener(
    default_ports: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SG_AGENCY_PASSWORD_HEALTH", raising=False)
    assert agencies.client_config("health") == {
        "bootstrap.servers": "127.0.0.1:29094",
        "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "health",
        "sasl.password": "dev-health-secret",
    }
    assert agencies.client_config("health", password="wrong")["sasl.password"] == "wrong"


def test_cluster_ids_look_like_kafkas() -> None:
    ids = {kafka.new_cluster_id() for _ in range(200)}
    assert len(ids) == 200
    for cid in ids:
        assert len(cid) == 22
        assert not cid.startswith("-")


def test_each_service_gets_its_settings_under_its_own_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SG_FORUM_PORT", raising=False)
    forum = services.select(["forum"])[0]
    admin = KafkaCredentials("admin", "pw", mechanism="PLAIN")
    env = services.service_env(forum, Endpoints("127.0.0.1:1", "mongodb://127.0.0.1:2/", admin), base={})
    assert env["FORUM_KAFKA_BOOTSTRAP"] == "127.0.0.1:1"
    assert env["FORUM_MONGO_URL"] == "mongodb://127.0.0.1:2/"
    assert env["FORUM_MONGO_DB"] == "forum"
    assert env["FORUM_HTTP_PORT"] == "8003"
    assert env["FORUM_KAFKA_USER"] == "forum"
    assert env["SG_LOG_DIR"] == str(paths.LOGS_DIR)


def test_a_service_port_variable_moves_the_service(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SG_ACCOUNTS_PORT", "18001")
    assert services.select(["accounts"])[0].url == "http://127.0.0.1:18001"


def test_an_unknown_service_is_refused_with_the_known_ones() -> None:
    with pytest.raises(DevStackError, match="accounts"):
        services.select(["nope"])


def test_a_taken_port_is_reported_with_the_variable_that_moves_it() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert not procs.port_free(port)
        with pytest.raises(DevStackError, match=rf"port {port} is in use .*SG_KAFKA_PORT"):
            procs.ensure_port_free(port, "SG_KAFKA_PORT")
    assert procs.port_free(port)


def test_a_started_process_is_recorded_and_stopped(run_dirs: Path) -> None:
    proc = procs.start("sleeper", ["sleep", "30"])
    assert procs.recorded("sleeper") == proc
    assert procs.stop("sleeper", timeout=5)
    assert not proc.alive()
    assert procs.recorded("sleeper") is None
    assert not procs.stop("sleeper")


def test_a_process_ignoring_sigterm_is_killed_after_the_timeout(run_dirs: Path) -> None:
    code = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('up', flush=True); time.sleep(60)"
    proc = procs.start("stubborn", [sys.executable, "-c", code])
    procs.wait_until(lambda: "up" in procs.tail(proc.log), what="stubborn", timeout=10, proc=proc)
    started = time.monotonic()
    assert procs.stop("stubborn", timeout=0.5)
    assert not proc.alive()
    # Killed, not waited out: the process would sleep 60 s. The margin is wide because a loaded CI machine
    # once took 5 s to reap it.
    assert time.monotonic() - started < 30


def test_a_process_that_dies_while_starting_is_reported_with_its_log(run_dirs: Path) -> None:
    proc = procs.start("crasher", [sys.executable, "-c", "print('boom: bad config'); raise SystemExit(3)"])
    with pytest.raises(DevStackError) as caught:
        procs.wait_until(lambda: False, what="crasher", timeout=10, proc=proc)
    message = str(caught.value)
    assert "exit code 3" in message
    assert "boom: bad config" in message
    assert str(proc.log) in message


def test_waiting_has_a_deadline() -> None:
    started = time.monotonic()
    with pytest.raises(DevStackError, match="not ready after"):
        procs.wait_until(lambda: False, what="nothing", timeout=0.3, interval=0.05)
    assert time.monotonic() - started < 2


def test_a_failed_command_names_its_log(tmp_path: Path) -> None:
    log = tmp_path / "step.log"
    with pytest.raises(DevStackError, match="exit code 2") as caught:
        procs.run_logged(["sh", "-c", "echo nope; exit 2"], what="step", log=log, timeout=10)
    assert str(log) in str(caught.value)
    assert "nope" in log.read_text()


def test_a_stale_pid_file_is_ignored(run_dirs: Path) -> None:
    proc = procs.start("brief", ["true"])
    procs.wait_until(lambda: not proc.alive(), what="exit", timeout=10)
    assert procs.recorded("brief") is None
    assert not procs.pid_file("brief").exists()
