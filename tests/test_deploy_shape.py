"""The production shape (compose.yaml, deploy/prometheus.yml, services/*/Dockerfile) checked by parsing.

There is no Docker engine on the development machines, so these tests read the files and hold them to what
the services actually are: every service directory with a pyproject.toml, its package, its module and its
default HTTP port from its settings.py. A new service (services/web) is covered as soon as it exists.
"""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "compose.yaml"
PROMETHEUS_FILE = ROOT / "deploy" / "prometheus.yml"
KAFKA_BOOTSTRAP = "kafka:9092"
MONGO_HOST = "mongodb:27017"
UV_VERSION = "0.13.9"


@dataclass(frozen=True)
class Service:
    name: str  # directory, module and compose service name
    package: str  # distribution name in the workspace, sg-<name>
    port: int  # the default http_port in its settings.py

    @property
    def prefix(self) -> str:
        return self.name.upper() + "_"

    @property
    def dockerfile(self) -> Path:
        return ROOT / "services" / self.name / "Dockerfile"


def _declared_port(settings: Path) -> int | None:
    found = re.findall(r"^\s+http_port\s*:\s*int\s*=\s*(\d+)\s*$", settings.read_text(), re.MULTILINE)
    assert len(found) <= 1, f"{settings.relative_to(ROOT)} declares http_port more than once: {found}"
    return int(found[0]) if found else None


def _settings_port(service_dir: Path) -> int:
    """The default `http_port` of the service's settings class, else the one it inherits from shared."""
    settings = service_dir / "src" / service_dir.name / "settings.py"
    assert settings.is_file(), f"{settings.relative_to(ROOT)} is missing"
    port = _declared_port(settings) or _declared_port(ROOT / "shared" / "src" / "shared" / "settings.py")
    assert port is not None, f"no default http_port for {service_dir.name}"
    return port


@cache
def discover_services() -> tuple[Service, ...]:
    services = []
    for manifest in sorted((ROOT / "services").glob("*/pyproject.toml")):
        project = tomllib.loads(manifest.read_text())["project"]
        service_dir = manifest.parent
        services.append(Service(service_dir.name, str(project["name"]), _settings_port(service_dir)))
    return tuple(services)


SERVICES = discover_services()
SERVICE_IDS = [s.name for s in SERVICES]


# ---------------------------------------------------------------- Dockerfile parsing


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str


def parse_dockerfile(path: Path) -> list[list[Instruction]]:
    """Instructions grouped by stage (one list per FROM), with line continuations joined and comments dropped."""
    stages: list[list[Instruction]] = []
    logical = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not logical and (not line or line.startswith("#")):
            continue
        if logical and line.startswith("#"):
            continue  # a comment inside a continued instruction
        if line.endswith("\\"):
            logical += line[:-1].rstrip() + " "
            continue
        logical += line
        keyword, _, args = logical.partition(" ")
        logical = ""
        instruction = Instruction(keyword.upper(), args.strip())
        if instruction.keyword == "FROM":
            stages.append([])
        assert stages, f"{path.relative_to(ROOT)}: {instruction.keyword} before the first FROM"
        stages[-1].append(instruction)
    assert not logical, f"{path.relative_to(ROOT)} ends inside a continued line"
    return stages


def _all(stage: list[Instruction], keyword: str) -> list[str]:
    return [i.args for i in stage if i.keyword == keyword]


def _exec_form(args: str) -> list[str]:
    """A JSON (exec-form) argument list; shell form is refused, since it would run the service under sh."""
    value = json.loads(args)
    assert isinstance(value, list), f"not an exec-form list: {args}"
    assert all(isinstance(v, str) for v in value), f"not a list of strings: {args}"
    return [str(v) for v in value]


def _env_pairs(args: str) -> dict[str, str]:
    """ENV key=value pairs (the legacy `ENV key value` form is refused: it is ambiguous)."""
    pairs = {}
    for token in shlex.split(args):
        key, sep, value = token.partition("=")
        assert sep, f"ENV must use key=value: {args}"
        pairs[key] = value
    return pairs


def runtime_stage(service: Service) -> list[Instruction]:
    assert service.dockerfile.is_file(), f"services/{service.name} has no Dockerfile"
    stages = parse_dockerfile(service.dockerfile)
    assert stages, f"{service.dockerfile} has no FROM"
    return stages[-1]


# ---------------------------------------------------------------- YAML helpers


def _load_yaml(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict), f"{path.relative_to(ROOT)} is not a mapping"
    return data


@cache
def compose() -> dict[str, Any]:
    return _load_yaml(COMPOSE_FILE)


def compose_service(name: str) -> dict[str, Any]:
    services = compose().get("services")
    assert isinstance(services, dict), "compose.yaml has no services mapping"
    service = services.get(name)
    assert isinstance(service, dict), f"compose.yaml has no service {name!r}"
    return service


def environment(service: dict[str, Any]) -> dict[str, str]:
    """The environment in either compose form (mapping or list of KEY=value), values as strings."""
    env = service.get("environment", {})
    if isinstance(env, list):
        return dict(str(item).partition("=")[::2] for item in env)
    assert isinstance(env, dict), f"environment must be a mapping or a list: {env!r}"
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def depends_on(service: dict[str, Any]) -> dict[str, str]:
    """depends_on as {service: condition}, the short list form meaning service_started."""
    deps = service.get("depends_on", {})
    if isinstance(deps, list):
        return dict.fromkeys((str(d) for d in deps), "service_started")
    assert isinstance(deps, dict), f"depends_on must be a mapping or a list: {deps!r}"
    return {str(k): str((v or {}).get("condition", "service_started")) for k, v in deps.items()}


def published_ports(service: dict[str, Any]) -> set[tuple[int, int]]:
    """(host, container) pairs from short ("8001:8001", "127.0.0.1:8001:8001/tcp") or long syntax."""
    pairs = set()
    for entry in service.get("ports", []):
        if isinstance(entry, dict):
            pairs.add((int(entry["published"]), int(entry["target"])))
            continue
        *_, host, container = str(entry).split("/")[0].split(":")
        pairs.add((int(host), int(container)))
    return pairs


def healthcheck_command(healthcheck: Any) -> str:
    assert isinstance(healthcheck, dict), f"no healthcheck mapping: {healthcheck!r}"
    assert not healthcheck.get("disable"), "healthcheck is disabled"
    test = healthcheck.get("test")
    if isinstance(test, list):
        assert test and test[0] in {"CMD", "CMD-SHELL"}, f"healthcheck test must start with CMD: {test}"
        return " ".join(str(t) for t in test[1:])
    assert isinstance(test, str) and test, "healthcheck has no test"
    return test


# ---------------------------------------------------------------- tests


def test_the_services_are_discovered_from_their_manifests_with_distinct_ports() -> None:
    names = {s.name for s in SERVICES}
    assert {"accounts", "chronology", "forum", "analytics", "notifications"} <= names
    for service in SERVICES:
        assert service.package == f"sg-{service.name}", f"services/{service.name} is named {service.package}"
    ports = [s.port for s in SERVICES]
    assert len(set(ports)) == len(ports), f"two services share a default port: {ports}"


def test_the_dockerfile_parser_reads_continuations_and_stages(tmp_path: Path) -> None:
    # The helpers the other tests rely on, on a file whose reading is known.
    sample = tmp_path / "Dockerfile"
    sample.write_text(
        "# comment\nFROM a AS one\nRUN x \\\n    # inner comment\n    y\nFROM b\nENV A=1 \\\n    B=2\n"
    )
    stages = parse_dockerfile(sample)
    assert [[i.keyword for i in stage] for stage in stages] == [["FROM", "RUN"], ["FROM", "ENV"]]
    assert stages[0][1].args == "x y"
    assert _env_pairs(stages[1][1].args) == {"A": "1", "B": "2"}


@pytest.mark.parametrize("service", SERVICES, ids=SERVICE_IDS)
def test_every_service_has_a_dockerfile_that_runs_it_as_non_root(service: Service) -> None:
    stage = runtime_stage(service)
    assert stage[0].args.split()[0] == "python:3.11-slim", f"runtime image: {stage[0].args}"
    assert _exec_form(_all(stage, "CMD")[-1]) == ["python", "-m", service.name]
    users = _all(stage, "USER")
    assert users, f"{service.name}: the runtime stage sets no USER, so it runs as root"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0", ""}, f"{service.name}: runs as {users[-1]}"
    # python:3.11-slim knows no such user: the stage must create it (by that name or uid).
    runs = " ".join(_all(stage, "RUN"))
    created = rf"(useradd|adduser)\b[^;&|]*(--uid[ =]{user}\b|\s{user}(\s|$))" if user.isdigit() else None
    assert re.search(created or rf"(useradd|adduser)\b[^;&|]*\s{re.escape(user)}(\s|$)", runs), (
        f"{service.name}: user {user} is never created"
    )


@pytest.mark.parametrize("service", SERVICES, ids=SERVICE_IDS)
def test_every_dockerfile_exposes_the_port_the_settings_default_to_and_listens_on_all_interfaces(
    service: Service,
) -> None:
    stage = runtime_stage(service)
    exposed = {int(p.split("/")[0]) for args in _all(stage, "EXPOSE") for p in args.split()}
    assert exposed == {service.port}, f"{service.name}: EXPOSE {exposed}, settings.py says {service.port}"
    env: dict[str, str] = {}
    for args in _all(stage, "ENV"):
        env |= _env_pairs(args)
    assert env.get(f"{service.prefix}HTTP_HOST") == "0.0.0.0", (
        f"{service.name}: would listen on loopback only"
    )
    assert env.get(f"{service.prefix}HTTP_PORT") == str(service.port)


@pytest.mark.parametrize("service", SERVICES, ids=SERVICE_IDS)
def test_every_dockerfile_checks_liveness_on_healthz_with_python(service: Service) -> None:
    stage = runtime_stage(service)
    checks = _all(stage, "HEALTHCHECK")
    assert checks, f"{service.name}: no HEALTHCHECK"
    options, sep, command = checks[-1].partition("CMD ")
    assert sep, f"{service.name}: HEALTHCHECK has no CMD: {checks[-1]}"
    argv = _exec_form(command)
    assert argv[0] == "python", f"{service.name}: the slim image has no curl, check with python: {argv}"
    probe = " ".join(argv)
    assert "/healthz" in probe
    assert f"{service.prefix}HTTP_PORT" in probe or str(service.port) in probe, probe
    assert "--timeout=" in options, f"{service.name}: a HEALTHCHECK without a timeout can hang"


@pytest.mark.parametrize("service", SERVICES, ids=SERVICE_IDS)
def test_every_dockerfile_installs_only_its_own_package_from_the_lock(service: Service) -> None:
    stages = parse_dockerfile(service.dockerfile)
    assert len(stages) >= 2, f"{service.name}: the Dockerfile is not multi-stage"
    build = [i for stage in stages[:-1] for i in stage]
    runs = " ".join(_all(build, "RUN"))
    assert f"uv=={UV_VERSION}" in runs, f"{service.name}: uv is not pinned to {UV_VERSION}"
    syncs = [shlex.split(r[r.index("uv sync") :]) for r in _all(build, "RUN") if "uv sync" in r]
    assert syncs, f"{service.name}: no uv sync"
    for argv in syncs:
        assert "--frozen" in argv or "--locked" in argv, f"{service.name}: uv sync may re-resolve: {argv}"
        assert "--no-dev" in argv, f"{service.name}: installs the dev group: {argv}"
        assert argv[argv.index("--package") + 1] == service.package, f"{service.name}: {argv}"
        assert "--all-packages" not in argv
        # The runtime stage gets the environment only, so nothing in it may point back at /src.
        assert "--no-editable" in argv, f"{service.name}: editable installs need the source tree: {argv}"
    copied = " ".join(_all(build, "COPY"))
    assert "uv.lock" in copied, f"{service.name}: the lock is not copied into the build"
    assert f"services/{service.name}/src" in copied
    # The runtime stage takes the environment from the build stage, not the whole source tree.
    runtime_copies = _all(stages[-1], "COPY")
    assert runtime_copies and all(c.startswith("--from=") for c in runtime_copies), runtime_copies


@pytest.mark.parametrize("service", SERVICES, ids=SERVICE_IDS)
def test_no_dockerfile_mentions_another_service(service: Service) -> None:
    text = service.dockerfile.read_text()
    for other in SERVICES:
        if other == service:
            continue
        pattern = rf"services/{other.name}\b|\bsg-{other.name}\b|\b{other.prefix}|-m {other.name}\b"
        assert not re.search(pattern, text), f"{service.name}'s Dockerfile refers to {other.name}"


@pytest.mark.parametrize("service", SERVICES, ids=SERVICE_IDS)
def test_compose_builds_every_service_from_its_own_dockerfile_at_the_repository_root(
    service: Service,
) -> None:
    build = compose_service(service.name).get("build")
    assert isinstance(build, dict), f"{service.name}: build must name the context and the dockerfile"
    assert build.get("context") == ".", f"{service.name}: context must be the repository root"
    dockerfile = str(build.get("dockerfile"))
    assert dockerfile == f"services/{service.name}/Dockerfile"
    assert (ROOT / dockerfile).is_file()


@pytest.mark.parametrize("service", SERVICES, ids=SERVICE_IDS)
def test_compose_publishes_the_port_the_settings_and_dockerfile_agree_on(service: Service) -> None:
    stage = runtime_stage(service)
    exposed = {int(p.split("/")[0]) for args in _all(stage, "EXPOSE") for p in args.split()}
    assert exposed == {service.port}
    assert published_ports(compose_service(service.name)) == {(service.port, service.port)}


@pytest.mark.parametrize("service", SERVICES, ids=SERVICE_IDS)
def test_compose_gives_every_service_its_kafka_mongodb_and_listen_settings(service: Service) -> None:
    env = environment(compose_service(service.name))
    p = service.prefix
    for key in ("KAFKA_BOOTSTRAP", "MONGO_URL", "MONGO_DB", "HTTP_HOST", "HTTP_PORT"):
        assert p + key in env, f"{service.name}: {p + key} is not set"
    assert env[p + "KAFKA_BOOTSTRAP"] == KAFKA_BOOTSTRAP
    assert env[p + "MONGO_URL"].startswith(f"mongodb://{MONGO_HOST}"), env[p + "MONGO_URL"]
    assert env[p + "MONGO_DB"] == service.name, "each service owns its own database"
    assert env[p + "HTTP_HOST"] == "0.0.0.0"
    assert env[p + "HTTP_PORT"] == str(service.port)
    stray = [k for k in env if not k.startswith(p)]
    assert not stray, f"{service.name}: settings with another prefix are ignored by it: {stray}"


@pytest.mark.parametrize("service", SERVICES, ids=SERVICE_IDS)
def test_compose_starts_every_service_after_the_topics_exist_and_mongodb_is_healthy(service: Service) -> None:
    svc = compose_service(service.name)
    deps = depends_on(svc)
    assert deps.get("kafka-init") == "service_completed_successfully", deps
    assert deps.get("kafka-access") == "service_completed_successfully", deps
    assert deps.get("mongodb") == "service_healthy", deps
    assert depends_on(compose_service("kafka-init")).get("kafka") == "service_healthy"
    assert svc.get("restart") in {"always", "unless-stopped", "on-failure"}, (
        f"{service.name}: no restart policy"
    )


@pytest.mark.parametrize("service", SERVICES, ids=SERVICE_IDS)
def test_compose_health_checks_every_service_on_its_own_port(service: Service) -> None:
    command = healthcheck_command(compose_service(service.name).get("healthcheck"))
    assert re.search(rf"127\.0\.0\.1:{service.port}/(healthz|readyz)\b", command), command
    assert "curl" not in command and "wget" not in command, "the slim image has neither curl nor wget"


@pytest.mark.parametrize("service", SERVICES, ids=SERVICE_IDS)
def test_prometheus_scrapes_every_service_metrics(service: Service) -> None:
    config = _load_yaml(PROMETHEUS_FILE)
    jobs = config.get("scrape_configs")
    assert isinstance(jobs, list) and jobs, "deploy/prometheus.yml has no scrape_configs"
    scraping = [
        job
        for job in jobs
        for static in job.get("static_configs", [])
        if f"{service.name}:{service.port}" in static.get("targets", [])
    ]
    assert scraping, f"nothing scrapes {service.name}:{service.port}"
    assert all(job.get("metrics_path", "/metrics") == "/metrics" for job in scraping)


def test_prometheus_in_compose_mounts_the_scrape_configuration() -> None:
    prometheus = compose_service("prometheus")
    assert str(prometheus.get("image", "")).startswith("prom/prometheus")
    mounts = [str(v) for v in prometheus.get("volumes", [])]
    assert any(m.startswith("./deploy/prometheus.yml:/etc/prometheus/prometheus.yml") for m in mounts), mounts


def test_kafka_is_a_single_kraft_node_that_the_services_can_reach() -> None:
    kafka = compose_service("kafka")
    assert str(kafka.get("image", "")).startswith("apache/kafka:4."), kafka.get("image")
    env = environment(kafka)
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    node_id = env["KAFKA_NODE_ID"]
    assert f"{node_id}@kafka:9093" in env["KAFKA_CONTROLLER_QUORUM_VOTERS"].split(",")
    assert "CONTROLLER" in env["KAFKA_CONTROLLER_LISTENER_NAMES"].split(",")
    listeners = env["KAFKA_LISTENERS"].split(",")
    assert "SERVICES://:9092" in listeners and "CONTROLLER://:9093" in listeners, listeners
    assert f"SERVICES://{KAFKA_BOOTSTRAP}" in env["KAFKA_ADVERTISED_LISTENERS"].split(",")
    # One broker: internal topics cannot have more replicas than that.
    assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "1"
    assert env["KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"] == "1"
    assert int(env["KAFKA_NUM_PARTITIONS"]) > 1
    data_dir = env.get("KAFKA_LOG_DIRS", "/tmp/kraft-combined-logs")
    volumes = [str(v) for v in kafka.get("volumes", [])]
    assert any(v.split(":")[1] == data_dir for v in volumes if ":" in v), f"{data_dir} is not on a volume"
    assert healthcheck_command(kafka.get("healthcheck"))


def test_kafka_init_creates_every_topic_before_the_services_start() -> None:
    init = compose_service("kafka-init")
    command = init.get("command")
    text = " ".join(command) if isinstance(command, list) else str(command)
    assert "ensure_topics" in text and f"'{KAFKA_BOOTSTRAP}'" in text, text
    built_images = {svc.get("image") for svc in compose()["services"].values() if "build" in svc}
    assert isinstance(init.get("build"), dict) or init.get("image") in built_images, "kafka-init has no image"
    assert init.get("restart", "no") == "no", "a one-shot must not be restarted"


def test_mongodb_keeps_its_data_on_a_volume_and_reports_health() -> None:
    mongodb = compose_service("mongodb")
    assert str(mongodb.get("image", "")).startswith("mongo:")
    targets = [str(v).split(":")[1] for v in mongodb.get("volumes", []) if ":" in str(v)]
    assert "/data/db" in targets, "no data volume"
    assert "ping" in healthcheck_command(mongodb.get("healthcheck"))


def test_every_named_volume_in_compose_is_declared() -> None:
    declared = set((compose().get("volumes") or {}).keys())
    used = {
        str(v).split(":")[0]
        for service in compose()["services"].values()
        for v in service.get("volumes", [])
        if not str(v).startswith((".", "/"))
    }
    assert used <= declared, f"undeclared volumes: {used - declared}"


def test_the_docker_build_context_leaves_out_caches_and_environments_but_not_the_sources() -> None:
    patterns = {
        line.strip().lstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    for needed in (".git", ".cache", "**/.venv", "**/__pycache__", "**/node_modules"):
        assert needed in patterns, f".dockerignore does not leave out {needed}"
    for kept in ("shared", "services", "uv.lock", "pyproject.toml", "**/src", "*.toml", "*.lock"):
        assert kept not in patterns, f".dockerignore leaves out {kept}, which the images need"


# ---------------------------------------------------------------- Kafka access (issue 9, rule 10)

SECRET = re.compile(r"^\$\{(?P<name>[A-Z_]+):\?[^}]+\}$")  # ${NAME:?message}: required, no default


def _required_secret(value: str) -> str:
    match = SECRET.match(value)
    assert match, f"{value!r} is not a required interpolation ${{NAME:?message}}: a secret has no default"
    return match["name"]


def test_every_kafka_listener_authenticates_and_only_the_administrator_is_a_super_user() -> None:
    env = environment(compose_service("kafka"))
    protocols = dict(pair.split(":") for pair in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(","))
    assert set(protocols.values()) == {"SASL_PLAINTEXT"}, protocols
    assert env["KAFKA_INTER_BROKER_LISTENER_NAME"] == "SERVICES"
    assert env["KAFKA_SUPER_USERS"] == "User:admin"
    assert env["KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND"] == "false"
    assert env["KAFKA_AUTHORIZER_CLASS_NAME"].endswith("StandardAuthorizer")
    assert env["KAFKA_LISTENER_NAME_SERVICES_SASL_ENABLED_MECHANISMS"] == "SCRAM-SHA-512,PLAIN"
    assert env["KAFKA_LISTENER_NAME_SASL__PLAINTEXT_SASL_ENABLED_MECHANISMS"] == "SCRAM-SHA-512"
    assert "ANONYMOUS" not in json.dumps(env)
    for listener in ("SERVICES", "CONTROLLER"):
        jaas = env[f"KAFKA_LISTENER_NAME_{listener}_PLAIN_SASL_JAAS_CONFIG"]
        assert 'username="admin"' in jaas and "${KAFKA_ADMIN_PASSWORD:?" in jaas, jaas
    assert "--command-config" in healthcheck_command(compose_service("kafka").get("healthcheck"))


@pytest.mark.parametrize("service", SERVICES, ids=SERVICE_IDS)
def test_compose_signs_every_service_in_to_kafka_as_its_own_user(service: Service) -> None:
    env = environment(compose_service(service.name))
    p = service.prefix
    if service.name == "web":  # no Kafka client, so no Kafka user
        assert p + "KAFKA_USER" not in env and p + "KAFKA_PASSWORD" not in env
        return
    assert env[p + "KAFKA_USER"] == service.name
    assert _required_secret(env[p + "KAFKA_PASSWORD"]) == p + "KAFKA_PASSWORD"
    access = environment(compose_service("kafka-access"))
    assert _required_secret(access[p + "KAFKA_PASSWORD"]) == p + "KAFKA_PASSWORD", "the same password"


def test_kafka_access_creates_exactly_the_users_and_acls_the_local_stack_does() -> None:
    from devstack import service_users

    access = compose_service("kafka-access")
    assert str(access.get("image", "")).startswith("apache/kafka:4."), access.get("image")
    mounts = [str(v) for v in access.get("volumes", [])]
    assert f"./{service_users.SCRIPT}:/deploy/kafka-service-access.sh:ro" in mounts, mounts
    assert access.get("entrypoint") == ["/bin/sh", "/deploy/kafka-service-access.sh"]
    assert access.get("restart", "no") == "no", "a one-shot must not be restarted"
    assert depends_on(access).get("kafka") == "service_healthy"
    assert (ROOT / service_users.SCRIPT).read_text() == service_users.access_script(), (
        f"{service_users.SCRIPT} is stale: run `python -m devstack.service_users`"
    )
    init = environment(compose_service("kafka-init"))
    assert _required_secret(init["SG_KAFKA_ADMIN_PASSWORD"]) == "KAFKA_ADMIN_PASSWORD"
