"""No service image installs the developer tools: not the dev stack, not the test support, not pytest, and no
service's sources hold test support or demo data of their own.

There is no Docker engine on the development machines, so this reads what decides an image's contents: each
`services/<svc>/Dockerfile` (which files it copies, how it calls `uv sync`) and `uv.lock` (what
`uv sync --frozen --no-dev --package sg-<svc>` installs: the package and its dependencies, followed through
extras, without any dependency group).
"""

from __future__ import annotations

import ast
import shlex
import tomllib
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SERVICE_DIRS = sorted(p.parent for p in (ROOT / "services").glob("*/pyproject.toml"))
SERVICE_IDS = [d.name for d in SERVICE_DIRS]
TOOLING = {"sg-devstack", "sg-testsupport"}
TOOLING_MODULES = {"devstack", "testsupport", "pytest"}
# What test support and demo data are called; they belong in tools/testsupport and tools/devstack.
DEV_ONLY_NAMES = {"testing", "demo", "fixtures", "conftest", "tests"}

Lock = dict[str, list[dict[str, Any]]]


def read_lock(text: str) -> Lock:
    """uv.lock's packages by name (a name may be locked at several versions, one per platform marker)."""
    packages: Lock = {}
    for package in tomllib.loads(text)["package"]:
        packages.setdefault(str(package["name"]), []).append(package)
    return packages


@cache
def workspace_lock() -> Lock:
    return read_lock((ROOT / "uv.lock").read_text())


def runtime_closure(lock: Lock, root: str) -> set[str]:
    """Every package installed with `root`: its dependencies and those of the extras asked for, transitively.

    Dependency groups (`dev-dependencies` in the lock) are never followed: `uv sync --no-dev` leaves them
    out. Markers are ignored, so the answer covers every platform.
    """
    done: set[tuple[str, str | None]] = set()  # (package, None) for itself, (package, extra) for an extra
    wanted: list[tuple[str, str | None]] = [(root, None)]
    while wanted:
        item = wanted.pop()
        if item in done:
            continue
        done.add(item)
        name, extra = item
        assert name in lock, f"uv.lock has no package {name!r} (in the closure of {root})"
        for package in lock[name]:
            if extra is None:
                edges = package.get("dependencies", [])
            else:
                edges = package.get("optional-dependencies", {}).get(extra, [])
            for dep in edges:
                wanted.append((str(dep["name"]), None))
                wanted += [(str(dep["name"]), str(e)) for e in dep.get("extra", [])]
    return {name for name, _ in done}


def service_package(service_dir: Path) -> str:
    return str(tomllib.loads((service_dir / "pyproject.toml").read_text())["project"]["name"])


def build_instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(KEYWORD, arguments) of every instruction, line continuations joined and comments dropped."""
    instructions = []
    logical = ""
    for raw in dockerfile.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            logical += line[:-1].rstrip() + " "
            continue
        keyword, _, args = (logical + line).partition(" ")
        logical = ""
        instructions.append((keyword.upper(), args.strip()))
    return instructions


def imported_modules(files: Iterable[Path]) -> dict[str, set[str]]:
    """Top-level module names imported anywhere in each file, by path relative to the checkout."""
    found = {}
    for path in files:
        names = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = names
    return found


def dev_only_modules(root: Path) -> list[str]:
    """Modules under `services/*/src` named as test support or demo data (`testing`, `demo`, `test_*`, ...,
    a package of that name included), by path relative to `root`."""
    found = []
    for path in sorted(root.glob("services/*/src/**/*.py")):
        relative = path.relative_to(root)
        names = [*relative.parts[3:-1], path.stem]  # the packages inside src/, then the module
        if any(name in DEV_ONLY_NAMES or name.startswith("test_") for name in names):
            found.append(relative.as_posix())
    return found


# ---------------------------------------------------------------- the checks themselves


def test_the_closure_follows_dependencies_and_extras_but_not_dependency_groups() -> None:
    lock = read_lock(
        """
        [[package]]
        name = "app"
        dependencies = [{ name = "lib", extra = ["fast"] }]
        [package.dev-dependencies]
        dev = [{ name = "pytest" }]

        [[package]]
        name = "lib"
        dependencies = [{ name = "base" }]
        [package.optional-dependencies]
        fast = [{ name = "speedups" }]
        slow = [{ name = "turtle" }]

        [[package]]
        name = "base"
        [[package]]
        name = "speedups"
        [[package]]
        name = "turtle"
        [[package]]
        name = "pytest"
        """
    )
    assert runtime_closure(lock, "app") == {"app", "lib", "base", "speedups"}


def test_a_test_or_demo_module_put_back_into_a_service_is_found(tmp_path: Path) -> None:
    modules = [
        "services/accounts/src/accounts/app.py",
        "services/accounts/src/accounts/testing.py",
        "services/accounts/src/accounts/demo.py",
        "services/accounts/src/accounts/people/test_people.py",
        "services/forum/src/forum/testing/__init__.py",
        "services/forum/src/forum/demo/people.py",
        "services/forum/src/forum/service.py",
        "services/web/src/web/demo.py",
        "services/web/src/web/pages/demo.py",
        "tools/devstack/src/devstack/demo.py",
    ]
    for module in modules:
        (tmp_path / module).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / module).touch()
    assert dev_only_modules(tmp_path) == [
        "services/accounts/src/accounts/demo.py",
        "services/accounts/src/accounts/people/test_people.py",
        "services/accounts/src/accounts/testing.py",
        "services/forum/src/forum/demo/people.py",
        "services/forum/src/forum/testing/__init__.py",
        "services/web/src/web/demo.py",
        "services/web/src/web/pages/demo.py",
    ]


def test_the_tooling_closures_do_hold_what_the_images_must_not() -> None:
    # The same walk over the real lock finds pytest and the dev stack where they are, so their absence from
    # the service closures below is a finding, not a parser that sees nothing.
    closure = runtime_closure(workspace_lock(), "sg-testsupport")
    assert {"sg-devstack", "sg-shared", "pytest", "pytest-asyncio", "fastapi"} <= closure


def test_the_tooling_is_installed_only_through_the_root_dev_group() -> None:
    root = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert set(root["dependency-groups"]["dev"]) >= TOOLING
    assert not TOOLING & set(root["project"]["dependencies"])
    assert all(root["tool"]["uv"]["sources"][name] == {"workspace": True} for name in TOOLING)


# ---------------------------------------------------------------- every service


@pytest.mark.parametrize("service_dir", SERVICE_DIRS, ids=SERVICE_IDS)
def test_no_service_image_installs_the_dev_stack_the_test_support_or_pytest(service_dir: Path) -> None:
    package = service_package(service_dir)
    closure = runtime_closure(workspace_lock(), package)
    assert {package, "sg-shared", "fastapi", "aiokafka"} <= closure, f"{package}: {sorted(closure)}"
    assert not closure & TOOLING, f"{package} pulls in {sorted(closure & TOOLING)}"
    pytests = sorted(name for name in closure if name == "pytest" or name.startswith("pytest-"))
    assert not pytests, f"{package} pulls in {pytests}"
    members = {name for name in closure if name.startswith("sg-")}
    assert members == {package, "sg-shared"}, f"{package} installs other workspace members: {members}"


@pytest.mark.parametrize("service_dir", SERVICE_DIRS, ids=SERVICE_IDS)
def test_every_image_syncs_without_the_dev_group_and_copies_only_shared_and_its_own_sources(
    service_dir: Path,
) -> None:
    name, package = service_dir.name, service_package(service_dir)
    instructions = build_instructions(service_dir / "Dockerfile")
    syncs = [shlex.split(args[args.index("uv sync") :]) for kw, args in instructions if "uv sync" in args]
    assert syncs, f"{name}: its Dockerfile never runs uv sync"
    for argv in syncs:
        assert "--no-dev" in argv, f"{name}: {argv}"
        assert argv[argv.index("--package") + 1] == package, f"{name}: {argv}"
        extras = {
            "--dev",
            "--only-dev",
            "--group",
            "--all-groups",
            "--all-packages",
            "--extra",
            "--all-extras",
        }
        assert not extras & set(argv), f"{name}: {argv}"
    allowed = {
        "pyproject.toml",
        "uv.lock",
        "shared/pyproject.toml",
        "shared/src",
        f"services/{name}/pyproject.toml",
        f"services/{name}/src",
    }
    copied = set()
    for keyword, args in instructions:
        argv = shlex.split(args)
        if keyword in {"COPY", "ADD"} and not any(a.startswith("--from=") for a in argv):
            copied |= {source.rstrip("/") for source in argv[:-1] if not source.startswith("--")}
    assert {f"services/{name}/src", "shared/src", "uv.lock"} <= copied, f"{name}: copies {sorted(copied)}"
    assert copied <= allowed, f"{name} copies {sorted(copied - allowed)} into its image"


def test_the_runtime_code_imports_neither_the_tooling_nor_pytest() -> None:
    sources = [*(ROOT / "shared" / "src").rglob("*.py")]
    for service_dir in SERVICE_DIRS:
        sources += (service_dir / "src").rglob("*.py")
    imports = imported_modules(sources)
    assert sum("shared" in names for names in imports.values()) > 10, "the import scan reads nothing"
    offenders = {path: names & TOOLING_MODULES for path, names in imports.items() if names & TOOLING_MODULES}
    assert not offenders, offenders
    assert not (ROOT / "shared" / "src" / "shared" / "devstack").exists()
    assert not (ROOT / "shared" / "src" / "shared" / "testing").exists()


def test_no_service_source_is_a_test_support_or_demo_data_module() -> None:
    assert len(list(ROOT.glob("services/*/src/**/*.py"))) > 50, "the module scan reads nothing"
    assert dev_only_modules(ROOT) == []
