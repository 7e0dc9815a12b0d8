"""`./dev <command>`: the local stack and the one test command.

    ./dev up           infrastructure + every service + demo data; runs until Ctrl-C, then stops what it started
    ./dev infra        only Kafka, PostgreSQL and FerretDB, left running
    ./dev status       what runs, whether it answers, where its log is
    ./dev down         stop everything ./dev started (--wipe also deletes the Kafka and PostgreSQL data)
    ./dev test [ARGS]  ruff, ruff format --check, mypy, pytest ARGS against the real servers
    ./dev rebuild [SERVICE...] [OPTIONS]
                       rebuild chronology's and analytics' read models from the topics on the running local
                       stack (`python -m <service> rebuild OPTIONS`; --help lists the options)

Ports: SG_KAFKA_PORT (29092), SG_KAFKA_CONTROLLER_PORT (29093), SG_PG_PORT (25432), SG_MONGO_PORT (27027),
SG_<SERVICE>_PORT (accounts 8001, chronology 8002, forum 8003, analytics 8004, notifications 8005, web 8000).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from types import FrameType

from devstack import agencies, infra, kafka, paths, postgres, procs, services
from devstack.errors import DevStackError
from devstack.infra import Endpoints
from devstack.procs import say

NO_TESTS_COLLECTED = 5  # pytest's exit code when it found nothing to run


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def _signals_as_interrupt() -> Iterator[None]:
    """SIGTERM cleans up exactly like Ctrl-C does (and SIGINT works even when started with it ignored)."""
    previous = {sig: signal.signal(sig, _raise_interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _rel(path: os.PathLike[str] | str) -> str:
    try:
        return (
            os.path.relpath(path, paths.REPO_ROOT)
            if str(path).startswith(str(paths.REPO_ROOT))
            else str(path)
        )
    except ValueError:
        return str(path)


# --- infra / down / status ------------------------------------------------------------------------------------


def _agency_kafka() -> str:
    """The SASL listener agency systems use, and how they sign in on the local stack."""
    return (
        f"{agencies.sasl_bootstrap()}   (SASL_PLAINTEXT, SCRAM-SHA-512; user <agency>, "
        "password $SG_AGENCY_PASSWORD_<AGENCY> or dev-<agency>-secret)"
    )


_KAFKA_SIGN_IN = "(SASL_PLAINTEXT; services SCRAM-SHA-512 as <service>/dev-<service>-secret, admin PLAIN admin/dev-admin-secret)"


def cmd_infra() -> int:
    started_at = time.monotonic()
    endpoints, _ = infra.ensure_infra()
    say(f"infrastructure ready in {time.monotonic() - started_at:.1f}s (./dev down stops it)")
    print(f"  Kafka bootstrap   {endpoints.kafka_bootstrap}   {_KAFKA_SIGN_IN}")
    print(f"  Kafka (agencies)  {_agency_kafka()}")
    print(f"  MongoDB wire URL  {endpoints.mongo_url}   (FerretDB on PostgreSQL)")
    print(f"  logs              {_rel(paths.LOGS_DIR)}/")
    return 0


def cmd_down(wipe: bool) -> int:
    stopped = services.stop_services()
    stopped += infra.stop_infra()
    say(f"stopped {', '.join(stopped)}" if stopped else "nothing was running")
    if wipe:
        for folder in (kafka.data_dir(), postgres.data_dir()):
            if folder.exists():
                shutil.rmtree(folder)
                say(f"deleted {folder}")
    return 0


def cmd_status() -> int:
    rows = [("component", "state", "pid", "address", "log")]
    for c in infra.infra_status():
        rows.append((c.name, c.state, str(c.pid or "-"), c.address, _rel(c.log)))
    for s in services.services_status():
        rows.append((s.service.name, s.state, str(s.pid or "-"), s.service.url, _rel(s.service.log)))
    _print_table(rows)
    return 0


def _print_table(rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        print("  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            print("  " + "  ".join("-" * w for w in widths))


# --- up -------------------------------------------------------------------------------------------------------


def _where_to_look(endpoints: Endpoints) -> None:
    chosen = services.all_services()
    rows = [("service", "url", "API docs", "metrics", "AsyncAPI")]
    for s in chosen:
        rows.append((s.name, s.url, f"{s.url}/docs", f"{s.url}/metrics", f"{s.url}/asyncapi.json"))
    print()
    _print_table(rows)
    print()
    web = next((s for s in chosen if s.name == "web"), None)
    if web is not None:
        print(f"  web UI            {web.url}   — sign in with password {services.demo_password()!r} as")
        print(
            "                    sam.okafor (lead professional), hana.begum (practitioner, not yet in a team),"
        )
        print("                    mia.clarke (manager), kerry.example (parent), ana.audit (auditor)")
    print(f"  Kafka bootstrap   {endpoints.kafka_bootstrap}   {_KAFKA_SIGN_IN}")
    print(f"  Kafka (agencies)  {_agency_kafka()}")
    print(f"  MongoDB wire URL  {endpoints.mongo_url}")
    print(f"  logs              {paths.LOGS_DIR}/")
    print()


def _load_demo(endpoints: Endpoints) -> list[str]:
    """Seed the running accounts service with the demo people and children, then publish their contacts."""
    from devstack.demo import load_demo
    from devstack.demo_accounts import seed_service, settings_of

    accounts = settings_of(services.service_env(services.select(["accounts"])[0], endpoints))

    async def load() -> list[str]:
        return [await seed_service(accounts, password=services.demo_password()), await load_demo(endpoints)]

    return asyncio.run(load())


def _watch(names: list[str]) -> None:
    """Until interrupted: report (once) any service that exits."""
    reported: set[str] = set()
    while True:
        time.sleep(2)
        for name in names:
            if name in reported:
                continue
            if procs.recorded(name) is None:
                reported.add(name)
                log = paths.log_file(name)
                say(f"{name} exited. Last lines of {log}:\n{procs.indent(procs.tail(log))}")


def cmd_up() -> int:
    started_services: list[str] = []
    started_infra: list[str] = []
    try:
        endpoints, started_infra = infra.ensure_infra()
        started_services = services.start_services(endpoints)
        say("every service is ready; loading demo data")
        for line in _load_demo(endpoints):
            say(line)
        _where_to_look(endpoints)
        say("running — Ctrl-C stops what this command started")
        _watch([s.name for s in services.all_services()])
    except KeyboardInterrupt:
        print()
        say("stopping")
    finally:
        stopped = services.stop_services(started_services) + infra.stop_infra(started_infra)
        if stopped:
            say(f"stopped {', '.join(stopped)}")
        kept = [c for c in infra.COMPONENTS if c not in started_infra and procs.recorded(c) is not None]
        if kept:
            say(f"left running (started before `up`): {', '.join(kept)} — ./dev down stops them")
    return 0


# --- test -----------------------------------------------------------------------------------------------------


@dataclass
class Step:
    name: str
    ok: bool
    seconds: float
    note: str = ""


def _tool(name: str) -> str:
    candidate = paths.venv_python().parent / name
    if candidate.exists():
        return str(candidate)
    return procs.require_tool(name, "run ./dev, which installs the project's tools into .venv")


def _mypy_targets() -> list[str]:
    """Every Python folder of the workspace: libraries, tools, services, their tests, the benchmarks."""
    root = paths.REPO_ROOT
    targets = [root / "shared" / "src", root / "shared" / "tests", root / "tests", root / "bench"]
    targets += sorted((root / "tools").glob("*/src")) + sorted((root / "tools").glob("*/tests"))
    targets += sorted((root / "services").glob("*/src")) + sorted((root / "services").glob("*/tests"))
    return [os.path.relpath(t, root) for t in targets if t.is_dir() and any(t.rglob("*.py"))]


def _run_step(name: str, argv: list[str], env: dict[str, str]) -> Step:
    print(f"\n[dev] ── {name}: {' '.join(argv)}", flush=True)
    started_at = time.monotonic()
    code = subprocess.run(argv, cwd=paths.REPO_ROOT, env=env, check=False).returncode
    seconds = time.monotonic() - started_at
    note = ""
    if name == "pytest" and code == NO_TESTS_COLLECTED:
        note = "pytest collected no tests — that counts as a failure"
    elif code != 0:
        note = f"exit code {code}"
    return Step(name, code == 0, seconds, note)


def cmd_test(pytest_args: list[str]) -> int:
    results: list[Step] = []
    started_infra: list[str] = []
    env = dict(os.environ)
    endpoints: Endpoints | None = None
    try:
        started_at = time.monotonic()
        try:
            endpoints, started_infra = infra.ensure_infra()
        except DevStackError as exc:
            say(f"error: {exc}")
            results.append(Step("infra", False, time.monotonic() - started_at, "could not start; see above"))
        else:
            results.append(Step("infra", True, time.monotonic() - started_at))
            env.update(SG_KAFKA_BOOTSTRAP=endpoints.kafka_bootstrap, SG_MONGO_URL=endpoints.mongo_url)

        results.append(_run_step("ruff check", [_tool("ruff"), "check", "."], env))
        results.append(_run_step("ruff format", [_tool("ruff"), "format", "--check", "."], env))
        results.append(_run_step("mypy", [_tool("mypy"), *_mypy_targets()], env))
        if endpoints is None:
            results.append(Step("pytest", False, 0.0, "not run: the infrastructure did not start"))
        else:
            pytest = [str(paths.venv_python()), "-m", "pytest", *pytest_args]
            results.append(_run_step("pytest", pytest, env))
    except KeyboardInterrupt:
        print()
        say("interrupted")
        results.append(Step("interrupted", False, 0.0, "Ctrl-C / SIGTERM"))
    finally:
        if started_infra:
            stopped = infra.stop_infra(started_infra)
            say(f"stopped {', '.join(stopped)} (started for the tests)")

    print("\n[dev] summary")
    for step in results:
        mark = "ok  " if step.ok else "FAIL"
        print(f"  {mark}  {step.name:<12} {step.seconds:7.1f}s  {step.note}".rstrip())
    failed = [s.name for s in results if not s.ok]
    print(f"[dev] {'FAILED: ' + ', '.join(failed) if failed else 'all steps passed'}", flush=True)
    return 1 if failed else 0


REBUILDABLE = ("chronology", "analytics")


def cmd_rebuild(args: list[str]) -> int:
    """Each chosen service's `python -m <service> rebuild`, in turn, with the service's local-stack settings:
    the same command a deployment runs with the service's own environment."""
    chosen = [a for a in args if a in REBUILDABLE] or list(REBUILDABLE)
    options = [a for a in args if a not in REBUILDABLE]
    endpoints = infra.endpoints()
    status = 0
    for service in services.select(chosen):
        say(f"rebuilding {service.name}'s read models")
        env = services.service_env(service, endpoints)
        argv = [str(paths.venv_python()), "-m", service.module, "rebuild", *options]
        code = subprocess.call(argv, env=env, cwd=paths.REPO_ROOT)
        if code:
            say(f"{service.name}: rebuild exited {code}")
            status = status or code
    return status


# --- main -----------------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="./dev", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("up", help="start everything with demo data; Ctrl-C stops it")
    commands.add_parser("infra", help="start Kafka, PostgreSQL and FerretDB and leave them running")
    down = commands.add_parser("down", help="stop everything ./dev started")
    down.add_argument("--wipe", action="store_true", help="also delete the Kafka and PostgreSQL data")
    commands.add_parser("status", help="show what runs and where its logs are")
    commands.add_parser("test", help="lint, type-check and run every test (extra arguments go to pytest)")
    commands.add_parser("rebuild", help="rebuild chronology's and analytics' read models from the topics")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    # everything after `test` belongs to pytest, options included
    if args_list[:1] in (["test"], ["rebuild"]):
        command, pytest_args, wipe = args_list[0], args_list[1:], False
    else:
        args = parser.parse_args(args_list)
        command, pytest_args, wipe = args.command, [], bool(getattr(args, "wipe", False))
    try:
        with _signals_as_interrupt():
            if command == "up":
                return cmd_up()
            if command == "infra":
                return cmd_infra()
            if command == "down":
                return cmd_down(wipe)
            if command == "status":
                return cmd_status()
            if command == "rebuild":
                return cmd_rebuild(pytest_args)
            return cmd_test(pytest_args)
    except DevStackError as exc:
        print(f"[dev] error: {exc}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        print("\n[dev] interrupted", file=sys.stderr, flush=True)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
