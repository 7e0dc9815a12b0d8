"""The browser for UI tests: Debian's `chromium` and its `chromium-driver`, never a downloaded browser (BRIEF §5).

`ensure_browser()` returns where they are, installing both with apt-get when they are missing and this process
runs as root (as the dev tool and CI do); otherwise it says what to install. Selenium is then pointed at these
two paths so that Selenium Manager never looks for, or downloads, anything.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from devstack import paths, procs
from devstack.errors import DevStackError

PACKAGES = ("chromium", "chromium-driver")
FONTS = ("fonts-liberation", "fonts-dejavu-core")  # without them, a bare machine renders text as boxes
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
# Headless, and quiet: no first-run UI, no sync, no component or background downloads.
FLAGS: tuple[str, ...] = (
    "--headless=new",
    "--no-sandbox",  # running as root (CI) needs it; the pages under test are our own
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--password-store=basic",
)


@dataclass(frozen=True)
class Browser:
    chromium: Path
    chromedriver: Path


def find_browser() -> Browser | None:
    chromium = CHROMIUM if CHROMIUM.exists() else _which("chromium")
    driver = CHROMEDRIVER if CHROMEDRIVER.exists() else _which("chromedriver")
    if chromium is None or driver is None:
        return None
    return Browser(chromium=chromium, chromedriver=driver)


def _which(name: str) -> Path | None:
    found = shutil.which(name)
    return Path(found) if found else None


def ensure_browser() -> Browser:
    """Debian's Chromium and ChromeDriver, installed with apt-get (once) when missing and we are root."""
    found = find_browser()
    if found is not None:
        return found
    if os.geteuid() != 0:
        raise DevStackError(
            "Chromium and ChromeDriver not found (/usr/bin/chromium, /usr/bin/chromedriver) — "
            f"run: sudo apt-get update && sudo apt-get install -y {' '.join(PACKAGES)}"
        )
    apt = procs.require_tool("apt-get", f"install {' '.join(PACKAGES)} by hand")
    log = paths.log_file("browser-install")
    procs.say(f"installing {' and '.join(PACKAGES)} with apt-get (once; log {log})")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    with procs.file_lock(paths.RUN_DIR / "browser-install.lock", what="the browser install"):
        found = find_browser()  # another process may have installed it while we waited
        if found is not None:
            return found
        procs.run_logged([apt, "update"], what="apt-get update", log=log, timeout=600, env=env)
        procs.run_logged(
            [apt, "install", "-y", "--no-install-recommends", *PACKAGES, *FONTS],
            what=f"apt-get install {' '.join(PACKAGES)}",
            log=log,
            timeout=1200,
            env=env,
        )
    found = find_browser()
    if found is None:
        raise DevStackError(
            f"apt-get installed {' '.join(PACKAGES)} but found no chromium/chromedriver — see {log}"
        )
    return found
