"""Signing in, staying signed in and signing out in headless Chromium, against accounts, chronology, analytics
and web as real processes (issue 9, rule 9).

Access tokens here last 30 seconds (the shortest the settings allow) and the verifiers allow 5 seconds of clock
skew, so the journey outlives its first token: the browser keeps working without ever seeing the sign-in page
again, because the web swaps the refresh cookie for a new pair. Signing out with the button then ends the
sign-in everywhere: the browser's last token is refused by chronology, not only forgotten by the web.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import jwt
import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from devstack.browser import FLAGS, ensure_browser
from devstack.infra import Endpoints
from shared.topics import Topics
from testsupport.accounts import seed_demo
from testsupport.services import IsolatedRun, ServiceProcess, wait_for

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent
LOGS = ROOT / ".cache" / "test-logs"
SCREENSHOTS = ROOT / ".cache" / "screenshots"
TOPICS = Topics(prefix=f"s{uuid.uuid4().hex[:8]}.")
PASSWORD = f"demo-{uuid.uuid4().hex[:12]}"
AMY = "9434765919"  # demo child; tess.morgan is in her team
TTL_S, LEEWAY_S = 30, 5


@dataclass(frozen=True)
class Stack:
    accounts: ServiceProcess
    chronology: ServiceProcess
    web: ServiceProcess

    def chronology_status(self, token: str) -> int:
        response = httpx.get(
            f"{self.chronology.url}/children/{AMY}/chronology",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        return response.status_code


@pytest.fixture(scope="module")
def stack(infra: Endpoints) -> Iterator[Stack]:
    run = IsolatedRun.with_topics(infra, topics=TOPICS, log_dir=LOGS)
    short = {"AUTH_LEEWAY_S": str(LEEWAY_S)}
    started: list[ServiceProcess] = []
    try:
        accounts = run.service("accounts", AUTH_TOKEN_TTL_S=str(TTL_S), **short)
        started.append(accounts.start())
        seed_demo(accounts, password=PASSWORD)
        jwks = f"{accounts.url}/.well-known/jwks.json"
        chronology = run.service("chronology", AUTH_JWKS_URL=jwks, **short)
        analytics = run.service("analytics", AUTH_JWKS_URL=jwks, **short)
        forum = run.service("forum", AUTH_JWKS_URL=jwks, **short)  # the web is ready when its backends are
        started += [chronology.start(), analytics.start(), forum.start()]
        web = run.service(
            "web",
            AUTH_JWKS_URL=jwks,
            ACCOUNTS_URL=accounts.url,
            CHRONOLOGY_URL=chronology.url,
            ANALYTICS_URL=analytics.url,
            FORUM_URL=forum.url,
            COOKIE_SECURE="false",
            **short,
        )
        started.append(web.start())
        yield Stack(accounts=accounts, chronology=chronology, web=web)
    finally:
        for svc in reversed(started):
            svc.stop()


@pytest.fixture(scope="module")
def driver(stack: Stack) -> Iterator[webdriver.Chrome]:
    browser = ensure_browser()
    profile = tempfile.mkdtemp(prefix="sg-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(browser.chromium)
    for flag in (*FLAGS, f"--user-data-dir={profile}", "--window-size=1280,900"):
        options.add_argument(flag)
    chrome = webdriver.Chrome(options=options, service=Service(executable_path=str(browser.chromedriver)))
    chrome.set_page_load_timeout(30)
    try:
        yield chrome
    finally:
        with contextlib.suppress(WebDriverException):
            chrome.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _cookie(driver: webdriver.Chrome, name: str) -> str:
    found = driver.get_cookie(name)
    assert found is not None, f"no {name} cookie"
    assert found["httpOnly"] and found["sameSite"] == "Strict"
    return str(found["value"])


def _text(driver: webdriver.Chrome) -> str:
    return str(driver.find_element(By.TAG_NAME, "body").text)


def _submit(driver: webdriver.Chrome, button: str) -> None:
    old = driver.find_element(By.TAG_NAME, "html")
    next(b for b in driver.find_elements(By.TAG_NAME, "button") if b.text.strip() == button).click()
    wait_for(lambda: _gone(old), within=30, what=f"the page after {button!r}")


def _gone(element: object) -> bool:
    try:
        element.is_enabled()  # type: ignore[attr-defined]
    except WebDriverException:
        return True
    return False


def test_the_browser_stays_signed_in_past_its_first_token_and_signing_out_ends_it_everywhere(
    stack: Stack, driver: webdriver.Chrome
) -> None:
    base = stack.web.url
    driver.delete_all_cookies()
    driver.get(f"{base}/sign-in")
    driver.find_element(By.ID, "username").send_keys("tess.morgan")
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    _submit(driver, "Sign in")
    assert "Signed in as" in _text(driver)
    first = _cookie(driver, "sg_session")
    first_refresh = _cookie(driver, "sg_refresh")
    claims = jwt.decode(first, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == TTL_S

    # The first token ends, for every service; the person notices nothing.
    wait_for(lambda: stack.chronology_status(first) == 401, within=TTL_S + LEEWAY_S + 30, what="expiry")
    driver.get(f"{base}/children/{AMY}")
    assert "Signed in as" in _text(driver) and "Amy Example" in _text(driver), _text(driver)[:300]
    current = _cookie(driver, "sg_session")
    assert current != first and _cookie(driver, "sg_refresh") != first_refresh
    assert jwt.decode(current, options={"verify_signature": False})["sid"] == claims["sid"]
    assert stack.chronology_status(current) == 200
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SCREENSHOTS / "signed-in-after-refresh-desktop.png"))

    _submit(driver, "Sign out")
    assert "You have signed out" in _text(driver)
    assert driver.get_cookie("sg_session") is None and driver.get_cookie("sg_refresh") is None
    wait_for(lambda: stack.chronology_status(current) == 401, within=10, what="the last token revoked")
    refused = httpx.post(
        f"{stack.accounts.url}/auth/refresh", json={"refresh_token": first_refresh}, timeout=10
    )
    assert refused.status_code == 401
    driver.save_screenshot(str(SCREENSHOTS / "signed-out-desktop.png"))
