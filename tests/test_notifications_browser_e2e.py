"""A notification arriving live on a practitioner's page, in headless Chromium (issue 13, "Done when"):
accounts, notifications, chronology, analytics and the web as real processes; an agency's own client (confluent-kafka) publishes a
significant contact about Amy; her lead, Sam Okafor, sees it appear on the notifications page and the bell's
count go up, without a reload. Screenshots go to /tmp/sg-notifications/.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from confluent_kafka import Producer
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from devstack.browser import FLAGS, ensure_browser
from devstack.demo_accounts import sign_in_page_users
from devstack.infra import Endpoints
from shared import mongo
from shared.topics import Topics
from testsupport.accounts import seed_demo
from testsupport.services import IsolatedRun, ServiceProcess, wait_for

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent
LOGS = ROOT / ".cache" / "test-logs"
SHOTS = Path("/tmp/sg-notifications")
TOPICS = Topics(prefix=f"n{uuid.uuid4().hex[:8]}.")
PASSWORD = f"demo-{uuid.uuid4().hex[:12]}"
AMY = "9434765919"  # a demo child (devstack.demo_accounts): lead Sam Okafor
SECRET = f"Disclosure to the school nurse, ref {uuid.uuid4().hex[:8]}"


def significant_contact(agency: str) -> dict[str, object]:
    return {
        "id": str(uuid.uuid4()),
        "type": "contact.recorded",
        "version": 1,
        "source": agency,
        "subject": AMY,
        "time": "2026-11-30T10:00:00Z",
        "data": {
            "agency": agency,
            "author": {"name": "School nurse", "role": "Nurse"},
            "child": {"nhs_number": AMY},
            "occurred_at": "2026-11-30T09:30:00Z",
            "contact_type": "office_visit",
            "summary": SECRET,
            "impact": "negative",
            "significant": True,
            "visibility": "restricted",
        },
    }


@dataclass(frozen=True)
class Stack:
    web: ServiceProcess
    mongo_url: str
    notifications_db: str

    def knows_amy(self) -> bool:
        """Whether notifications has Amy's team from accounts.events (its own access snapshot)."""

        async def look() -> bool:
            client = mongo.connect(self.mongo_url, app_name="test")
            try:
                return await client[self.notifications_db]["child_access"].find_one({"_id": AMY}) is not None
            finally:
                await client.close()

        return asyncio.run(look())


@pytest.fixture(scope="module")
def stack(infra: Endpoints) -> Iterator[Stack]:
    run = IsolatedRun.with_topics(infra, topics=TOPICS, log_dir=LOGS)
    accounts = run.service("accounts")
    started: list[ServiceProcess] = []
    try:
        started.append(accounts.start())
        seed_demo(accounts, password=PASSWORD)
        jwks = f"{accounts.url}/.well-known/jwks.json"
        # chronology, analytics and the forum too: the web is ready only when every backend it shows answers
        others = [
            run.service(name, AUTH_JWKS_URL=jwks)
            for name in ("notifications", "chronology", "analytics", "forum")
        ]
        started += [service.start() for service in others]
        notifications, chronology, analytics, forum = others
        web = run.service(
            "web",
            AUTH_JWKS_URL=jwks,
            ACCOUNTS_URL=accounts.url,
            NOTIFICATIONS_URL=notifications.url,
            CHRONOLOGY_URL=chronology.url,
            ANALYTICS_URL=analytics.url,
            FORUM_URL=forum.url,
            DEMO_PASSWORD=PASSWORD,
            DEMO_USERS=sign_in_page_users(),
        )
        started.append(web.start())
        stack = Stack(web=web, mongo_url=infra.mongo_url, notifications_db=f"test_notifications_{run.id}")
        wait_for(stack.knows_amy, within=90, what="Amy's team in the notifications service")
        yield stack
    finally:
        for service in reversed(started):
            service.stop()


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


def sign_in(driver: webdriver.Chrome, base: str, username: str) -> None:
    driver.get(f"{base}/sign-in")
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "form[action='/sign-in'] button[type='submit']").click()
    wait_for(lambda: "Signed in as" in body(driver), within=30, what="the signed-in page")


def body(driver: webdriver.Chrome) -> str:
    """The page's text. A navigation can replace the page between finding its body and reading it: then the
    new page's body is read (never an empty string, which would pass an assertion that text is absent)."""
    for _ in range(20):
        try:
            return str(driver.find_element(By.TAG_NAME, "body").text)
        except StaleElementReferenceException:
            time.sleep(0.1)
    raise AssertionError("the page kept being replaced while it was read")


def bell(driver: webdriver.Chrome) -> str:
    return str(driver.find_element(By.CSS_SELECTOR, "[data-unread]").text)


def test_a_significant_contact_arrives_live_on_the_leads_notifications_page(
    infra: Endpoints, stack: Stack, driver: webdriver.Chrome
) -> None:
    sign_in(driver, stack.web.url, "sam.okafor")
    driver.get(f"{stack.web.url}/notifications")
    wait_for(lambda: "Notifications" in body(driver), within=30, what="the notifications page")
    page = driver.find_element(By.TAG_NAME, "html")  # the same document throughout: no reload
    before = len(driver.find_elements(By.CSS_SELECTOR, "#notification-list li"))

    producer = Producer({**infra.librdkafka(), "acks": "all", "enable.idempotence": True})
    producer.produce(
        TOPICS.contact("school"), json.dumps(significant_contact("school")).encode(), key=AMY.encode()
    )
    assert producer.flush(30) == 0

    def arrived() -> bool:
        return len(driver.find_elements(By.CSS_SELECTOR, "#notification-list li.arrived")) == 1

    wait_for(arrived, within=60, what="the notification to appear on the page without a reload")
    assert page.is_enabled()  # the page was not reloaded (a reload would make this element stale)
    item = driver.find_element(By.CSS_SELECTOR, "#notification-list li.arrived")
    assert "New significant event" in item.text and "A.E." in item.text
    assert SECRET not in body(driver) and "school" not in item.text.lower()  # the kind and initials only
    assert len(driver.find_elements(By.CSS_SELECTOR, "#notification-list li")) == before + 1
    wait_for(lambda: bell(driver) not in ("", "0"), within=10, what="the bell's count")
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SHOTS / "notification-arrived.png"))

    driver.get(f"{stack.web.url}/preferences")
    assert "Notification preferences" in body(driver)
    driver.save_screenshot(str(SHOTS / "preferences.png"))


def amys_card(driver: webdriver.Chrome) -> str:
    return str(driver.find_element(By.XPATH, f"//li[.//a[@href='/children/{AMY}']]").text)


def test_my_children_shows_what_changed_since_the_lead_last_opened_the_childs_page(
    infra: Endpoints, stack: Stack, driver: webdriver.Chrome
) -> None:
    driver.get(f"{stack.web.url}/sign-in")
    driver.delete_all_cookies()  # the module's other test may have signed in already
    sign_in(driver, stack.web.url, "sam.okafor")
    driver.get(f"{stack.web.url}/children/{AMY}")  # an allowed view: the last look starts again from here
    wait_for(lambda: "Amy" in body(driver), within=30, what="Amy's page")

    def now_reads(text: str) -> bool:
        driver.get(f"{stack.web.url}/children")
        return text in amys_card(driver)

    wait_for(lambda: now_reads("Nothing new."), within=60, what="the view to reach 'My children'")
    assert "Since you last looked" in amys_card(driver)

    producer = Producer({**infra.librdkafka(), "acks": "all", "enable.idempotence": True})
    producer.produce(
        TOPICS.contact("health"), json.dumps(significant_contact("health")).encode(), key=AMY.encode()
    )
    assert producer.flush(30) == 0

    wait_for(lambda: now_reads("1 significant event"), within=60, what="the new contact on 'My children'")
    assert SECRET not in body(driver) and "health" not in amys_card(driver).lower()
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SHOTS / "my-children-changes.png"))
