"""Background server processes: start detached with a log file and a pid file, check, stop; never hang.

Each server runs in its own session (so a Ctrl-C at the terminal reaches only the dev tool, which then stops
the servers in order), writes stdout and stderr to `.cache/run/logs/<name>.log` (the previous run's log is kept
as `<name>.log.1`), and is recorded in `.cache/run/pids/<name>.json` with its start time, so that a recycled pid
is never mistaken for it. Every wait has a deadline; a server that dies while starting is reported with the
end of its log.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from devstack import paths
from devstack.errors import DevStackError

TAIL_LINES = 30

# Popen objects of the servers this process started, so that their exit is noticed (and reaped) here.
_children: dict[int, subprocess.Popen[bytes]] = {}


def say(message: str) -> None:
    """Progress for the person at the terminal."""
    print(f"[dev] {message}", flush=True)


# --- tools and ports ------------------------------------------------------------------------------------------


def require_tool(name: str, hint: str) -> str:
    """The path of an executable on PATH, or an error saying how to get it."""
    found = shutil.which(name)
    if found is None:
        raise DevStackError(f"`{name}` is not on PATH — {hint}")
    return found


def port_open(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    """Whether something accepts TCP connections on the port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether a server could listen on the port (bound sockets count as taken; TIME_WAIT ones do not)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _listening_inodes(port: int) -> set[str]:
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    return inodes


def port_holder(port: int) -> str | None:
    """`pid 123 (java)` for the process listening on the port, when /proc tells (best effort)."""
    inodes = _listening_inodes(port)
    if not inodes:
        return None
    targets = {f"socket:[{inode}]" for inode in inodes}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            for fd in (proc / "fd").iterdir():
                if os.readlink(fd) in targets:
                    command = (proc / "comm").read_text().strip()
                    return f"pid {proc.name} ({command})"
        except OSError:
            continue
    return None


def ensure_port_free(port: int, variable: str) -> None:
    """Fail before starting a server whose port another process holds."""
    if port_free(port):
        return
    holder = port_holder(port)
    who = f" ({holder})" if holder else ""
    raise DevStackError(f"port {port} is in use by another process{who} — set {variable} or stop it")


# --- pid files ------------------------------------------------------------------------------------------------


def _start_ticks(pid: int) -> int | None:
    """The process's start time in clock ticks since boot, or None when it is gone or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] == "Z":  # exited, not yet reaped
        return None
    return int(fields[19])


def pid_file(name: str) -> Path:
    return paths.PIDS_DIR / f"{name}.json"


@dataclass(frozen=True)
class Proc:
    """A server process the dev stack started."""

    name: str
    pid: int
    start_ticks: int
    log: Path
    address: str = ""  # where it serves (host:port or URL), as started

    def alive(self) -> bool:
        child = _children.get(self.pid)
        if child is not None and child.poll() is not None:
            return False
        return _start_ticks(self.pid) == self.start_ticks

    def exit_code(self) -> int | None:
        child = _children.get(self.pid)
        return None if child is None else child.poll()


def recorded(name: str) -> Proc | None:
    """The running process recorded under this name, or None (a stale pid file is removed)."""
    file = pid_file(name)
    try:
        data = json.loads(file.read_text())
        proc = Proc(
            name=name,
            pid=int(data["pid"]),
            start_ticks=int(data["start_ticks"]),
            log=Path(data["log"]),
            address=str(data.get("address", "")),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if proc.alive():
        return proc
    file.unlink(missing_ok=True)
    return None


def reuse(name: str, address: str, answers: Callable[[], bool], stop_it: Callable[[], object]) -> bool:
    """Whether the recorded server already serves `address` and answers; one that does not is stopped."""
    running = recorded(name)
    if running is None:
        return False
    if running.address in (address, "") and answers():  # "" : recorded by an older version of this tool
        return True
    if running.address != address:
        say(
            f"{name} (pid {running.pid}) serves {running.address or 'elsewhere'}, wanted {address}; restarting it"
        )
    else:
        say(f"{name} (pid {running.pid}) does not answer on {address}; restarting it")
    stop_it()
    return False


def recorded_names() -> list[str]:
    """Names of every process with a pid file, running or not."""
    if not paths.PIDS_DIR.is_dir():
        return []
    return sorted(p.stem for p in paths.PIDS_DIR.glob("*.json"))


# --- start and stop -------------------------------------------------------------------------------------------


def _fresh_log(log: Path) -> None:
    log.parent.mkdir(parents=True, exist_ok=True)
    if log.exists() and log.stat().st_size > 0:
        log.replace(log.with_name(log.name + ".1"))


def start(
    name: str,
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    user: str | None = None,
    log: Path | None = None,
    address: str = "",
) -> Proc:
    """Start a server detached, in its own session, its output in its log file, and record its pid.

    `address` (where it will serve) is recorded with the pid, so that later commands check the right port.
    """
    log = log or paths.log_file(name)
    _fresh_log(log)
    paths.PIDS_DIR.mkdir(parents=True, exist_ok=True)
    full_env = dict(os.environ if env is None else env)
    with log.open("ab") as out:
        out.write(f"# {time.strftime('%Y-%m-%d %H:%M:%S')} {' '.join(argv)}\n".encode())
        out.flush()
        try:
            child = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=full_env,
                cwd=cwd or paths.REPO_ROOT,
                start_new_session=True,
                user=user,
                group=user,
                extra_groups=[] if user else None,
            )
        except OSError as exc:
            raise DevStackError(f"cannot start {name} ({argv[0]}): {exc}") from exc
    _children[child.pid] = child
    ticks = _start_ticks(child.pid)
    proc = Proc(
        name=name, pid=child.pid, start_ticks=ticks if ticks is not None else -1, log=log, address=address
    )
    record = {
        "pid": proc.pid,
        "start_ticks": proc.start_ticks,
        "log": str(log),
        "address": address,
        "argv": list(argv),
    }
    pid_file(name).write_text(json.dumps(record))
    return proc


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _wait_gone(check: Callable[[], bool], deadline: float) -> bool:
    while time.monotonic() < deadline:
        if not check():
            return True
        time.sleep(0.1)
    return not check()


def stop(name: str, *, sig: signal.Signals = signal.SIGTERM, timeout: float = 20.0) -> bool:
    """Stop a recorded server: `sig`, then SIGKILL to its whole process group after `timeout` seconds.

    Returns whether it was running.
    """
    return bool(stop_many([name], sig=sig, timeout=timeout))


def stop_many(
    names: Sequence[str], *, sig: signal.Signals = signal.SIGTERM, timeout: float = 20.0
) -> list[str]:
    """Stop several recorded servers at once (signal all, then wait for all); returns those that were running."""
    running: list[Proc] = []
    for name in names:
        proc = recorded(name)
        if proc is None:
            pid_file(name).unlink(missing_ok=True)
            continue
        running.append(proc)
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, sig)
    deadline = time.monotonic() + timeout
    for proc in running:
        graceful = _wait_gone(proc.alive, deadline)
        if not graceful:
            say(f"{proc.name} (pid {proc.pid}) ignored {sig.name} for {timeout:.0f}s; killing it")
        # The server's own children (PostgreSQL backends, worker processes) share its process group.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if not graceful or _group_alive(proc.pid):
                if graceful:
                    os.killpg(proc.pid, signal.SIGTERM)
                    _wait_gone(partial(_group_alive, proc.pid), time.monotonic() + 5)
                os.killpg(proc.pid, signal.SIGKILL)
        _wait_gone(proc.alive, time.monotonic() + 5)
        child = _children.pop(proc.pid, None)
        if child is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=1)
        pid_file(proc.name).unlink(missing_ok=True)
    return [proc.name for proc in running]


# --- waiting and one-shot commands ----------------------------------------------------------------------------


def tail(log: Path, lines: int = TAIL_LINES) -> str:
    """The last lines of a log file (empty when there is none)."""
    try:
        with log.open("rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 64 * 1024))
            text = f.read().decode(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def died_error(what: str, proc: Proc) -> DevStackError:
    """The error for a server that exited while starting: its exit code and the end of its log."""
    code = proc.exit_code()
    pid_file(proc.name).unlink(missing_ok=True)
    _children.pop(proc.pid, None)
    how = f" with exit code {code}" if code is not None else ""
    return DevStackError(
        f"{what} exited{how} while starting. Last {TAIL_LINES} lines of {proc.log}:\n"
        f"{indent(tail(proc.log))}\n(full log: {proc.log})"
    )


def indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines()) or "    (log is empty)"


def wait_until(
    check: Callable[[], bool],
    *,
    what: str,
    timeout: float,
    proc: Proc | None = None,
    interval: float = 0.25,
) -> None:
    """Poll `check` until it is true; fail if the deadline passes or the server being waited on dies."""
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return
        if proc is not None and not proc.alive():
            raise died_error(what, proc)
        if time.monotonic() >= deadline:
            where = f" — see {proc.log}" if proc is not None else ""
            raise DevStackError(f"{what} was not ready after {timeout:.0f}s{where}")
        time.sleep(interval)


def run_logged(
    argv: Sequence[str],
    *,
    what: str,
    log: Path,
    timeout: float,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    user: str | None = None,
) -> str:
    """Run a one-shot command to completion, its output appended to `log`; fail clearly, never hang.

    Returns the command's output.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    try:
        result = subprocess.run(
            list(argv),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            env=dict(os.environ if env is None else env),
            cwd=cwd or paths.REPO_ROOT,
            timeout=timeout,
            user=user,
            group=user,
            extra_groups=[] if user else None,
            check=False,
        )
        output = (result.stdout + result.stderr).decode(errors="replace")
    except subprocess.TimeoutExpired as exc:
        output = ((exc.stdout or b"") + (exc.stderr or b"")).decode(errors="replace")
        _append(log, argv, output)
        raise DevStackError(f"{what} did not finish within {timeout:.0f}s — see {log}") from None
    except OSError as exc:
        raise DevStackError(f"{what} could not run ({argv[0]}): {exc}") from exc
    _append(log, argv, output)
    if result.returncode != 0:
        last = "\n".join(output.splitlines()[-TAIL_LINES:])
        raise DevStackError(
            f"{what} failed with exit code {result.returncode}. Last lines of its output:\n{indent(last)}\n"
            f"(full log: {log})"
        )
    return output


def _append(log: Path, argv: Sequence[str], output: str) -> None:
    with log.open("a") as f:
        f.write(f"# {time.strftime('%Y-%m-%d %H:%M:%S')} {' '.join(argv)}\n{output}\n")


@contextlib.contextmanager
def file_lock(path: Path, *, what: str, timeout: float = 600.0) -> Iterator[None]:
    """Hold an exclusive lock on `path` (two dev commands must not start the same servers at once)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as f:
        deadline = time.monotonic() + timeout
        announced = False
        while True:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise DevStackError(
                        f"another dev command held {path} for {timeout:.0f}s ({what})"
                    ) from None
                if not announced:
                    say(f"waiting for another dev command to finish ({what})")
                    announced = True
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
