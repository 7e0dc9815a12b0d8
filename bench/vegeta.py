"""vegeta, the open-loop HTTP load tool: built once from the Go module proxy, run at a constant rate.

Open loop: vegeta sends at the rate asked whatever the answers' latency, so a slow server meets a growing
queue, as it would with real users (wrk, closed loop, would slow down with it and hide that).
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from devstack import paths
from devstack.errors import DevStackError

VERSION = "v12.12.0"
BIN = paths.BIN_DIR / "vegeta"


def ensure_binary() -> Path:
    """`go install github.com/tsenart/vegeta/v12@VERSION` into .cache/bin, with the Go caches under .cache."""
    stamp = BIN.with_suffix(".version")
    if BIN.is_file() and stamp.is_file() and stamp.read_text().strip() == VERSION:
        return BIN
    env = {
        **os.environ,
        "GOMODCACHE": str(paths.GO_MOD_CACHE),
        "GOCACHE": str(paths.GO_BUILD_CACHE),
        "GOBIN": str(paths.BIN_DIR),
        "GOTOOLCHAIN": "local",
        "CGO_ENABLED": "0",
    }
    print(f"building vegeta {VERSION} from the Go module proxy (once)", flush=True)
    result = subprocess.run(
        ["go", "install", f"github.com/tsenart/vegeta/v12@{VERSION}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if result.returncode != 0:
        raise DevStackError(f"go install of vegeta failed:\n{result.stderr[-2000:]}")
    stamp.write_text(VERSION)
    return BIN


@dataclass(frozen=True)
class Report:
    """One attack's figures, from `vegeta report -type=json`."""

    requests: int
    rate: float  # requests sent per second
    throughput: float  # successful answers per second
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    success: float  # share of 2xx answers
    status: dict[str, int]
    errors: list[str]
    # Seconds after the load stopped until the page and /readyz answered again (None: not measured or never).
    recovered_s: float | None = None

    @property
    def unavailable(self) -> int:
        return self.status.get("503", 0)

    @property
    def failed(self) -> int:
        return self.requests - self.status.get("200", 0)

    def line(self, label: str) -> str:
        codes = ", ".join(f"{k}: {v}" for k, v in sorted(self.status.items()))
        return (
            f"{label:<34} {self.rate:7.1f}/s sent {self.throughput:7.1f}/s ok  p50 {self.p50_ms:8.1f}  "
            f"p95 {self.p95_ms:8.1f}  p99 {self.p99_ms:8.1f} ms  errors {self.failed:5d}  "
            f"503s {self.unavailable:5d}  [{codes}]"
        )


def write_targets(path: Path, base_url: str, targets: list[tuple[str, str]]) -> Path:
    """A vegeta JSON targets file: GET base_url + path with the session cookie, one line per (path, token)."""
    with path.open("w") as out:
        for page, token in targets:
            line = {"method": "GET", "url": base_url + page, "header": {"Cookie": [f"sg_session={token}"]}}
            out.write(json.dumps(line) + "\n")
    return path


def attack(targets: Path, *, rate: float, duration_s: float, timeout_s: float = 10.0) -> Report:
    """Send at `rate`/s for `duration_s` (cycling through the targets), then report."""
    binary = ensure_binary()
    results = targets.with_suffix(f".{int(rate)}.bin")
    workers = str(max(10, int(rate * timeout_s)))  # open loop: enough to keep the rate through slow answers
    with results.open("wb") as out:
        subprocess.run(
            [
                str(binary),
                "attack",
                "-format=json",
                f"-targets={targets}",
                f"-rate={max(1, round(rate * 10))}/10s",  # vegeta takes whole numbers: tenths of a page/s
                f"-duration={duration_s:g}s",
                f"-timeout={timeout_s:g}s",
                f"-max-workers={workers}",
                "-keepalive=true",
            ],
            stdout=out,
            check=True,
            timeout=duration_s + timeout_s + 60,
        )
    report = subprocess.run(
        [str(binary), "report", "-type=json", str(results)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    results.unlink()
    data = json.loads(report.stdout)
    lat = data["latencies"]
    return Report(
        requests=int(data["requests"]),
        rate=float(data["rate"]),
        throughput=float(data["throughput"]),
        p50_ms=lat["50th"] / 1e6,
        p95_ms=lat["95th"] / 1e6,
        p99_ms=lat["99th"] / 1e6,
        max_ms=lat["max"] / 1e6,
        success=float(data["success"]),
        status={str(k): int(v) for k, v in (data.get("status_codes") or {}).items()},
        errors=list(data.get("errors") or [])[:5],
    )
