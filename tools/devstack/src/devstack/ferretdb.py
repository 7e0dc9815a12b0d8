"""FerretDB 1.24.2, the MongoDB wire-protocol server of the local stack, on the local PostgreSQL.

`go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2` builds a binary that panics at start (its
generated version file is empty in module builds), so `infra/ferretdb/main.go` embeds the library instead.
It is built once into `.cache/bin/ferretdb` (about a minute cold, with the Go caches under `.cache/go`) and
rebuilt only when its sources change. The SQLite backend is compiled out (`ferretdb_no_sqlite`): it is not
usable for this project and it is the slowest part of the build.
"""

from __future__ import annotations

import hashlib
import os
import subprocess

from devstack import paths, postgres, procs
from devstack.errors import DevStackError
from devstack.paths import Ports

NAME = "ferretdb"
START_TIMEOUT = 60.0
BUILD_TAGS = "ferretdb_no_sqlite"
SOURCES = ("main.go", "go.mod", "go.sum")


def _go_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        GOMODCACHE=str(paths.GO_MOD_CACHE),
        GOCACHE=str(paths.GO_BUILD_CACHE),
        GOTOOLCHAIN="local",  # never download another Go toolchain
        GOFLAGS="-mod=readonly",
        CGO_ENABLED="0",
    )
    return env


def _source_digest(go_version: str) -> str:
    digest = hashlib.sha256()
    for name in SOURCES:
        digest.update(name.encode() + b"\0" + (paths.FERRETDB_SRC_DIR / name).read_bytes() + b"\0")
    digest.update(f"{go_version}\0{BUILD_TAGS}".encode())
    return digest.hexdigest()


def _stamp() -> str:
    try:
        return paths.FERRETDB_BIN.with_suffix(".sha256").read_text().strip()
    except OSError:
        return ""


def ensure_binary() -> None:
    """Build the FerretDB binary unless an up-to-date one is cached."""
    go = procs.require_tool("go", "install Go 1.22+ (https://go.dev/dl/) to build FerretDB")
    try:
        go_version = subprocess.run(
            [go, "env", "GOVERSION"], capture_output=True, text=True, timeout=30, check=True, env=_go_env()
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        raise DevStackError(f"`go env GOVERSION` failed: {exc}") from exc
    digest = _source_digest(go_version)
    if paths.FERRETDB_BIN.is_file() and _stamp() == digest:
        return
    log = paths.log_file("ferretdb-build")
    procs.say(f"building FerretDB 1.24.2 with {go_version} (once, ~1-2 min cold; log {log})")
    paths.BIN_DIR.mkdir(parents=True, exist_ok=True)
    partial = paths.FERRETDB_BIN.with_name("ferretdb.partial")
    procs.run_logged(
        [go, "build", "-trimpath", "-buildvcs=false", "-tags", BUILD_TAGS, "-o", str(partial), "."],
        what="go build of infra/ferretdb",
        log=log,
        timeout=1200,
        env=_go_env(),
        cwd=paths.FERRETDB_SRC_DIR,
    )
    partial.replace(paths.FERRETDB_BIN)
    paths.FERRETDB_BIN.with_suffix(".sha256").write_text(digest)


def healthy(mongo_url: str, timeout: float = 3.0) -> bool:
    """Whether the server answers a MongoDB `ping`."""
    import pymongo
    import pymongo.errors

    client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(
        mongo_url,
        serverSelectionTimeoutMS=int(timeout * 1000),
        connectTimeoutMS=int(timeout * 1000),
        socketTimeoutMS=int(timeout * 1000),
    )
    try:
        client.admin.command("ping")
        return True
    except pymongo.errors.PyMongoError:
        return False
    finally:
        client.close()


def start(ports: Ports) -> procs.Proc | None:
    """Start FerretDB unless it already runs and answers; returns the process when started here."""
    if procs.reuse(NAME, ports.mongo_url, lambda: healthy(ports.mongo_url), lambda: procs.stop(NAME)):
        return None
    ensure_binary()
    procs.ensure_port_free(ports.mongo, "SG_MONGO_PORT")
    argv = [
        str(paths.FERRETDB_BIN),
        "-listen",
        f"127.0.0.1:{ports.mongo}",
        "-postgresql-url",
        postgres.url(ports),
        "-log-level",
        # `warn` logs every error response in full (duplicate keys of idempotent appends included).
        os.environ.get("SG_FERRETDB_LOG_LEVEL", "error"),
    ]
    proc = procs.start(NAME, argv, address=ports.mongo_url)
    procs.say(f"starting FerretDB on {ports.mongo_url} (pid {proc.pid}, log {proc.log})")
    procs.wait_until(
        lambda: procs.port_open(ports.mongo) and healthy(ports.mongo_url),
        what="FerretDB",
        timeout=START_TIMEOUT,
        proc=proc,
        interval=0.5,
    )
    return proc
