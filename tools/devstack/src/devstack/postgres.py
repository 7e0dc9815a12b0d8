"""A local PostgreSQL 15 server, FerretDB's storage, on a loopback port.

`initdb` and `postgres` refuse to run as root, so when the dev tool runs as root they run as the `postgres`
user; that user owns the data folder, which lives outside the checkout (see `paths.pg_base_dir`) because a
checkout may sit under a folder `postgres` cannot enter. Unix sockets are off: every client uses TCP on
127.0.0.1 with trust authentication (a development server, never reachable from another machine).
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
from pathlib import Path

from devstack import gin, paths, procs
from devstack.errors import DevStackError
from devstack.paths import Ports

NAME = "postgres"
OS_USER = "postgres"
DATABASE = "ferretdb"
START_TIMEOUT = 60.0
PREFERRED_VERSION = "15"

# Development settings: durability against a machine crash is not needed, speed is.
SERVER_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "unix_socket_directories": "",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
    "shared_buffers": "256MB",
    # Write-heavy ingest: no WAL beyond what recovery needs, and rare checkpoints (they rewrite every page).
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "max_wal_size": "4GB",
    "checkpoint_timeout": "30min",
    "wal_buffers": "16MB",
    "log_min_messages": "warning",
    "log_connections": "off",
    # FerretDB's prepared statements pass the field name as a parameter (`_jsonb -> $1 @> $2`); a generic plan
    # cannot match that to an index expression, a custom plan can (devstack.gin; the project brief, §5).
    "plan_cache_mode": "force_custom_plan",
}


def data_dir() -> Path:
    return paths.pg_base_dir() / "pg"


def run_as() -> str | None:
    """The OS user the server runs as: `postgres` when we are root, else ourselves (None)."""
    return OS_USER if os.geteuid() == 0 else None


def url(ports: Ports) -> str:
    return f"postgres://postgres@127.0.0.1:{ports.postgres}/{DATABASE}"


# --- binaries -------------------------------------------------------------------------------------------------


def find_bindir() -> Path | None:
    """PostgreSQL's server binaries (Debian keeps them off PATH), preferring version 15."""
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/postgres"),
        key=lambda p: (p.parent.parent.name != PREFERRED_VERSION, -_major(p.parent.parent.name)),
    )
    if candidates:
        return candidates[0].parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


def _major(name: str) -> int:
    return int(name) if name.isdigit() else 0


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def ensure_installed() -> Path:
    """The server binaries' folder; installs Debian's `postgresql` when missing and we are root."""
    bindir = find_bindir()
    if bindir is not None and (os.geteuid() != 0 or _user_exists(OS_USER)):
        return bindir
    if os.geteuid() != 0:
        raise DevStackError(
            "PostgreSQL server binaries not found (looked in /usr/lib/postgresql/*/bin and PATH) — "
            "run: sudo apt-get update && sudo apt-get install -y postgresql"
        )
    apt = procs.require_tool("apt-get", "install PostgreSQL 15 (package `postgresql`) by hand")
    log = paths.log_file("postgres-install")
    procs.say(f"installing PostgreSQL with apt-get (once; log {log})")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    procs.run_logged([apt, "update"], what="apt-get update", log=log, timeout=600, env=env)
    procs.run_logged(
        [apt, "install", "-y", "--no-install-recommends", "postgresql"],
        what="apt-get install postgresql",
        log=log,
        timeout=900,
        env=env,
    )
    bindir = find_bindir()
    if bindir is None or not _user_exists(OS_USER):
        raise DevStackError(
            f"apt-get installed postgresql but no server binaries or `postgres` user — see {log}"
        )
    return bindir


# --- cluster --------------------------------------------------------------------------------------------------


def _prepare_dirs() -> None:
    """Create the server's folders, owned by the user it runs as, and check that user can reach them."""
    base = paths.pg_base_dir()
    base.mkdir(mode=0o755, parents=True, exist_ok=True)
    data = data_dir()
    data.mkdir(mode=0o700, exist_ok=True)
    user = run_as()
    if user is None:
        return
    info = pwd.getpwnam(user)
    if data.stat().st_uid != info.pw_uid:
        for root, dirs, files in os.walk(data):
            for entry in (root, *(os.path.join(root, n) for n in dirs + files)):
                os.chown(entry, info.pw_uid, info.pw_gid, follow_symlinks=False)
    data.chmod(0o700)
    probe = subprocess.run(
        ["test", "-w", str(data), "-a", "-x", str(data)],
        user=user,
        group=user,
        extra_groups=[],
        cwd="/",
        check=False,
        timeout=10,
    )
    if probe.returncode != 0:
        closed = next((p for p in reversed(data.parents) if not _traversable(p, info)), None)
        where = f" ({closed} is closed to it)" if closed else ""
        raise DevStackError(
            f"the `{user}` user cannot enter or write {data}{where}. "
            f"Set SG_PG_DIR to a folder it can reach (every parent must be traversable, e.g. under /var/tmp)."
        )


def _traversable(folder: Path, user: pwd.struct_passwd) -> bool:
    """Whether `user` may enter `folder`, judged from its mode bits (ACLs aside)."""
    st = folder.stat()
    if st.st_uid == user.pw_uid:
        return bool(st.st_mode & 0o100)
    if st.st_gid == user.pw_gid or st.st_gid in os.getgrouplist(user.pw_name, user.pw_gid):
        return bool(st.st_mode & 0o010)
    return bool(st.st_mode & 0o001)


def _ensure_cluster(bindir: Path) -> None:
    if (data_dir() / "PG_VERSION").is_file():
        return
    procs.say(f"creating a PostgreSQL cluster in {data_dir()}")
    procs.run_logged(
        [
            str(bindir / "initdb"),
            "-D",
            str(data_dir()),
            "--username=postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-instructions",
        ],
        what=f"initdb (as user {run_as() or 'current'})",
        log=paths.log_file("postgres-initdb"),
        timeout=180,
        user=run_as(),
        cwd=paths.pg_base_dir(),
        env={**os.environ, "LC_ALL": "C"},
    )


def address(ports: Ports) -> str:
    return f"127.0.0.1:{ports.postgres}"


def healthy(port: int, timeout: float = 3.0) -> bool:
    """Whether the server on this loopback port accepts connections."""
    bindir = find_bindir()
    if bindir is None or not procs.port_open(port):
        return False
    try:
        result = subprocess.run(
            [
                str(bindir / "pg_isready"),
                "-q",
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-t",
                "2",
            ],
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def _psql(bindir: Path, ports: Ports, sql: str, what: str, database: str = "postgres") -> str:
    return procs.run_logged(
        [
            str(bindir / "psql"),
            "-h",
            "127.0.0.1",
            "-p",
            str(ports.postgres),
            "-U",
            "postgres",
            "-d",
            database,
            "-v",
            "ON_ERROR_STOP=1",
            "-tAc",
            sql,
        ],
        what=what,
        log=paths.log_file("postgres-setup"),
        timeout=60,
        env={**os.environ, "PGCONNECT_TIMEOUT": "5"},
    ).strip()


def query(ports: Ports, sql: str, *, what: str) -> str:
    """Run SQL as `postgres` in FerretDB's database; returns psql's unaligned output (`|` between columns)."""
    return _psql(ensure_installed(), ports, sql, what, database=DATABASE)


def ensure_database(ports: Ports) -> None:
    bindir = ensure_installed()
    exists = _psql(
        bindir, ports, f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'", "checking databases"
    )
    if exists != "1":
        _psql(bindir, ports, f"CREATE DATABASE {DATABASE}", f"creating the {DATABASE} database")
    for what, sql in gin.statements():
        _psql(bindir, ports, sql, what, database=DATABASE)
    mode = _psql(bindir, ports, "SHOW plan_cache_mode", "checking plan_cache_mode", database=DATABASE)
    if mode != SERVER_SETTINGS["plan_cache_mode"]:
        procs.say(
            f"warning: PostgreSQL on port {ports.postgres} runs with plan_cache_mode={mode} (started with an "
            "older configuration), so FerretDB's queries cannot use indexes: ./dev down && ./dev infra restarts it"
        )


def start(ports: Ports) -> procs.Proc | None:
    """Start the server unless it already runs and answers; returns the process when started here."""
    if procs.reuse(NAME, address(ports), lambda: healthy(ports.postgres), stop):
        ensure_database(ports)
        return None
    bindir = ensure_installed()
    procs.ensure_port_free(ports.postgres, "SG_PG_PORT")
    _prepare_dirs()
    _ensure_cluster(bindir)
    argv = [str(bindir / "postgres"), "-D", str(data_dir()), "-p", str(ports.postgres)]
    argv += [f"-c{key}={value}" for key, value in SERVER_SETTINGS.items()]
    proc = procs.start(
        NAME,
        argv,
        cwd=paths.pg_base_dir(),
        user=run_as(),
        env={**os.environ, "LC_ALL": "C"},
        address=address(ports),
    )
    procs.say(
        f"starting PostgreSQL on 127.0.0.1:{ports.postgres} (pid {proc.pid}, data {data_dir()}, log {proc.log})"
    )
    procs.wait_until(lambda: healthy(ports.postgres), what="PostgreSQL", timeout=START_TIMEOUT, proc=proc)
    ensure_database(ports)
    return proc


def stop() -> bool:
    """Fast shutdown (SIGINT): open sessions are cut rather than waited for."""
    return procs.stop(NAME, sig=signal.SIGINT, timeout=30)
