"""The web front end in headless Chromium, against accounts, chronology, analytics, forum and web as real
processes.

Issue 4: a practitioner finds a child and asks to join with a reason; the lead approves; the practitioner sees
the child's page with the team directory; a parent sees the family version. Issue 5: the chronology as a
timeline for the practitioner, the family version for the parent — a restricted entry's text never on the
parent's page nor in the parent's export — and the lead marks an entry significant on the page. Issue 11: the
lead posts a worry in a practitioner-only thread and checks the wording of a post in a shared one; the parent
posts a thought and a safety scale in the shared thread and never sees the practitioner-only one; the
screenshots show the three columns.

Contact events are published by confluent-kafka (librdkafka), an agency's own kind of client. The browser is
Debian's chromium driven through Debian's chromedriver (devstack.browser); screenshots at phone and
desktop width go to .cache/screenshots/.
"""

from __future__ import annotations

import base64
import contextlib
import json
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from confluent_kafka import Producer
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select

from devstack.browser import FLAGS, ensure_browser
from devstack.demo_accounts import sign_in_page_users
from devstack.infra import Endpoints
from shared.topics import Topics
from testsupport.accounts import seed_demo, signed_in_token
from testsupport.services import IsolatedRun, ServiceProcess, wait_for

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent
LOGS = ROOT / ".cache" / "test-logs"
SCREENSHOTS = ROOT / ".cache" / "screenshots"
TOPICS = Topics(prefix=f"w{uuid.uuid4().hex[:8]}.")
PASSWORD = f"demo-{uuid.uuid4().hex[:12]}"


AMY = "9434765919"  # a demo child (devstack.demo_accounts): lead Sam Okafor, parent Kerry Example
PHONE, DESKTOP = 390, 1280
MARKER = uuid.uuid4().hex[:8]
RESTRICTED_TEXT = f"Police intelligence about an adult in the household, ref {MARKER}"


# --------------------------------------------------------------------------- the agency side


def contact(
    agency: str,
    occurred_at: str,
    contact_type: str,
    summary: str,
    *,
    impact: str = "neutral",
    visibility: str = "family_visible",
    **data: Any,
) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "type": "contact.recorded",
        "version": 1,
        "source": agency,
        "subject": AMY,
        "time": occurred_at,
        "data": {
            "agency": agency,
            "author": {"name": f"{agency.capitalize()} author", "role": "Practitioner"},
            "child": {"nhs_number": AMY},
            "occurred_at": occurred_at,
            "contact_type": contact_type,
            "summary": summary,
            "impact": impact,
            "visibility": visibility,
            **data,
        },
    }


WRONG = contact(
    "socialcare",
    "2026-09-08T10:00:00Z",
    "home_visit",
    "Home visit; Amy seemed withdrawn (recorded against the wrong day).",
    impact="negative",
)
EVENTS: list[dict[str, Any]] = [
    contact(
        "school",
        "2026-09-01T09:15:00Z",
        "office_visit",
        "Met with Amy's mother about attendance; she agreed to daily check-ins.",
        impact="positive",
    ),
    WRONG,
    contact(
        "socialcare",
        "2026-09-09T10:00:00Z",
        "home_visit",
        "Home visit; Amy seemed withdrawn but spoke warmly about school friends.",
        impact="negative",
        supersedes=WRONG["id"],
        action_taken="Agreed a weekly check-in with the school nurse.",
    ),
    contact(
        "police",
        "2026-09-15T22:30:00Z",
        "police_callout",
        RESTRICTED_TEXT,
        impact="negative",
        visibility="restricted",
        rag="red",
    ),
    contact(
        "health",
        "2026-09-20T14:00:00Z",
        "emergency_department_attendance",
        "Seen at A&E with a wrist injury; explanation consistent.",
    ),
    contact(
        "school",
        "2026-09-20T16:00:00Z",
        "emergency_department_attendance",
        "Mother told school that Amy went to A&E with a wrist injury.",
    ),
    contact(
        "health",
        "2026-10-05T11:00:00Z",
        "health_visitor_contact",
        "Health visitor contact; growth on track, dental referral made.",
        impact="positive",
    ),
]
TO_MARK = EVENTS[-1]


def publish(infra: Endpoints, events: list[dict[str, Any]]) -> None:
    producer = Producer({**infra.librdkafka(), "acks": "all", "enable.idempotence": True})
    for event in events:
        producer.produce(TOPICS.contact(event["source"]), json.dumps(event).encode(), key=AMY.encode())
    assert producer.flush(30) == 0


# --------------------------------------------------------------------------- the stack


@dataclass(frozen=True)
class Stack:
    accounts: ServiceProcess
    chronology: ServiceProcess
    forum: ServiceProcess
    web: ServiceProcess

    def token(self, username: str) -> str:
        return signed_in_token(self.accounts.url, username, PASSWORD)

    def read_chronology(self, username: str) -> httpx.Response:
        return httpx.get(
            f"{self.chronology.url}/children/{AMY}/chronology",
            params={"kind": "contact"},
            headers={"Authorization": f"Bearer {self.token(username)}"},
            timeout=10,
        )

    def describe_chronology(self, username: str) -> str:
        response = self.read_chronology(username)
        return f"{response.status_code} {response.text[:300]}"

    def chronology_total(self, username: str) -> int:
        response = self.read_chronology(username)
        return int(response.json()["total"]) if response.status_code == 200 else -1


@pytest.fixture(scope="module")
def stack(infra: Endpoints) -> Iterator[Stack]:
    run = IsolatedRun.with_topics(infra, topics=TOPICS, log_dir=LOGS)
    service = run.service

    accounts = service("accounts")
    started: list[ServiceProcess] = []
    try:
        started.append(accounts.start())
        seed_demo(accounts, password=PASSWORD)
        jwks = f"{accounts.url}/.well-known/jwks.json"
        chronology = service("chronology", AUTH_JWKS_URL=jwks)
        analytics = service("analytics", AUTH_JWKS_URL=jwks)
        forum = service("forum", AUTH_JWKS_URL=jwks)
        started += [chronology.start(), analytics.start(), forum.start()]
        web = service(
            "web",
            AUTH_JWKS_URL=jwks,
            ACCOUNTS_URL=accounts.url,
            CHRONOLOGY_URL=chronology.url,
            ANALYTICS_URL=analytics.url,
            FORUM_URL=forum.url,
            DEMO_PASSWORD=PASSWORD,
            DEMO_USERS=sign_in_page_users(),  # as the local stack hands them over
        )
        started.append(web.start())
        stack = Stack(accounts=accounts, chronology=chronology, forum=forum, web=web)
        publish(infra, EVENTS)
        wait_for(
            lambda: stack.chronology_total("sam.okafor") == len(EVENTS),
            within=90,
            what="the contact events in the lead's chronology",
            # A 403 here means chronology never learnt Amy's team: accounts must publish its events to
            # `<ACCOUNTS_TOPIC_PREFIX>accounts.events`, the topic chronology follows in this test.
            explain=lambda: stack.describe_chronology("sam.okafor"),
        )
        yield stack
    finally:
        for svc in reversed(started):
            svc.stop()


# --------------------------------------------------------------------------- the browser


class Page:
    """One headless Chromium, used as a person would: typing into labelled fields and pressing buttons."""

    def __init__(self, driver: webdriver.Chrome, base_url: str) -> None:
        self.driver = driver
        self.base_url = base_url

    def open(self, path: str) -> None:
        self.driver.get(self.base_url + path)

    @property
    def text(self) -> str:
        return str(self.driver.find_element(By.TAG_NAME, "body").text)

    @property
    def html(self) -> str:
        return str(self.driver.page_source)

    def field(self, label: str) -> WebElement:
        """The form control whose <label> says `label` (so the test fails when a label goes missing)."""
        for element in self.driver.find_elements(By.TAG_NAME, "label"):
            if element.text.strip().startswith(label):
                return self.driver.find_element(By.ID, str(element.get_attribute("for")))
        raise AssertionError(f"no field labelled {label!r} on {self.driver.current_url}")

    def press(self, text: str, within: WebElement | None = None) -> None:
        """Click the visible button, link or disclosure saying `text`; a button or link loads a new page, and
        this returns once it has (a click returns before the browser has navigated)."""
        scope: Any = within or self.driver
        for control in scope.find_elements(By.CSS_SELECTOR, "button, summary, a"):
            if control.text.strip() == text and control.is_displayed():
                navigates = control.tag_name != "summary"
                old_root = self.driver.find_element(By.TAG_NAME, "html")
                control.click()
                if navigates:
                    self._wait_for_new_page(old_root, after=text)
                return
        raise AssertionError(f"no visible button or link {text!r} on {self.driver.current_url}")

    def _wait_for_new_page(self, old_root: WebElement, *, after: str) -> None:
        wait_for(lambda: _stale(old_root), within=30, what=f"a new page after pressing {after!r}")
        wait_for(
            lambda: self.driver.execute_script("return document.readyState") == "complete",
            within=30,
            what=f"the page after pressing {after!r} to load",
        )

    def sign_in(self, username: str) -> None:
        self.driver.delete_all_cookies()
        self.open("/sign-in")
        self.field("User name").send_keys(username)
        self.field("Password").send_keys(PASSWORD)
        self.press("Sign in")
        assert "Signed in as" in self.text, self.text[:500]

    def reload_until(self, check: Callable[[str], bool], *, what: str, within: float = 60.0) -> None:
        """Reload until the page text passes `check` (account events reach each service a moment apart)."""

        def passes() -> bool:
            self.driver.refresh()
            return check(self.text)

        wait_for(passes, within=within, what=what)

    def screenshot(self, name: str) -> list[Path]:
        """Full-page PNGs at phone and desktop width."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        saved = []
        for width, label in ((PHONE, "phone"), (DESKTOP, "desktop")):
            metrics = {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width == PHONE}
            self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
            height = int(self.driver.execute_script("return document.documentElement.scrollHeight"))
            self.driver.execute_cdp_cmd(
                "Emulation.setDeviceMetricsOverride", {**metrics, "height": min(max(height, 900), 12000)}
            )
            shot = self.driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png"})
            path = SCREENSHOTS / f"{name}-{label}.png"
            path.write_bytes(base64.b64decode(shot["data"]))
            saved.append(path)
        self.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        return saved


@pytest.fixture(scope="module")
def page(stack: Stack) -> Iterator[Page]:
    browser = ensure_browser()
    profile = tempfile.mkdtemp(prefix="sg-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(browser.chromium)
    for flag in (*FLAGS, f"--user-data-dir={profile}", f"--window-size={DESKTOP},900"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(browser.chromedriver)))
    driver.set_page_load_timeout(30)
    try:
        yield Page(driver, stack.web.url)
    finally:
        with contextlib.suppress(WebDriverException):
            driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _stale(element: WebElement) -> bool:
    try:
        element.is_enabled()
    except StaleElementReferenceException:
        return True
    except WebDriverException as err:
        # Mid-navigation chromedriver may say the old node "does not belong to the document": it is stale.
        if "does not belong to the document" in str(err):
            return True
        raise
    return False


def entry(page: Page, event: dict[str, Any]) -> WebElement:
    return page.driver.find_element(By.ID, f"entry-{event['source']}:{event['id']}")  # the entry's id


# --------------------------------------------------------------------------- the journeys


def test_a_practitioner_asks_to_join_the_lead_approves_and_the_practitioner_sees_the_childs_page(
    stack: Stack, page: Page
) -> None:
    page.driver.delete_all_cookies()
    page.open("/sign-in")
    page.screenshot("00-sign-in")
    page.sign_in("hana.begum")
    page.press("Find a child")
    page.field("NHS number").send_keys("943 476 5919")
    page.press("Search")
    assert "1 child found" in page.text and "Amy Example" in page.text
    assert "12 Elm Road" not in page.text  # not in the team: who the child is, nothing more
    page.field("Why do you need to join Amy's team?").send_keys(
        "I am the health visitor for Amy's family and need to see the chronology."
    )
    page.screenshot("01-find-a-child")
    page.press("Ask to join the team")
    assert "Your request has been sent" in page.text

    page.sign_in("sam.okafor")
    page.press("Requests to join")
    assert "Hana Begum" in page.text and "I am the health visitor for Amy's family" in page.text
    page.screenshot("02-requests-to-join")
    page.press("Approve Hana Begum")
    assert "Request approved" in page.text

    page.sign_in("hana.begum")
    assert "Amy Example" in page.text  # my children
    page.screenshot("03-my-children")
    page.press("Amy Example")
    # The membership reaches chronology and analytics through accounts.events, a moment after accounts.
    page.reload_until(lambda text: "Seen at A&E" in text, what="the timeline for the new team member")
    text = page.text
    assert "Team directory" in text and "Lead professional" in text
    assert "Sam Okafor" in text and "sam.okafor@council.example" in text and "Hana Begum" in text
    assert "A confidential health service" in text  # the sexual health nurse, hidden from ordinary members
    assert RESTRICTED_TEXT in text  # practitioners see restricted entries
    assert "Likely the same event" in text
    assert "This entry was corrected" in text and "This corrects" in text
    assert "Who has looked at this record" in text
    assert "Mark as significant" not in text  # only the lead marks significance
    graph = page.driver.find_element(By.CSS_SELECTOR, "#graph svg[role='img']")
    assert graph.find_elements(By.TAG_NAME, "rect")  # a column per period with contact
    key = page.driver.find_elements(By.CSS_SELECTOR, "#graph .legend li")
    assert len(key) == 4  # school, social care, health, police
    page.screenshot("04-child-page-practitioner")


def test_the_lead_marks_an_entry_significant_on_the_timeline(stack: Stack, page: Page) -> None:
    page.sign_in("sam.okafor")
    page.open(f"/children/{AMY}")
    page.reload_until(lambda text: "Health visitor contact" in text, what="the lead's timeline")
    card = entry(page, TO_MARK)
    assert "significant" not in str(card.get_attribute("class")).split()
    page.press("Mark as significant", within=card)
    entry(page, TO_MARK).find_element(By.CSS_SELECTOR, "input[name='reason']").send_keys(
        "first positive health contact after the plan"
    )
    page.press("Mark as significant", within=entry(page, TO_MARK).find_element(By.TAG_NAME, "form"))
    assert "The entry is now marked as significant" in page.text
    card = entry(page, TO_MARK)
    assert "significant" in str(card.get_attribute("class")).split()
    assert "Significant event" in card.text and "Marked significant by the lead professional" in card.text
    page.open(f"/children/{AMY}?significant_only=1")
    assert "Health visitor contact; growth on track" in page.text and "Seen at A&E" not in page.text
    page.screenshot("05-significant-only-lead")


def test_a_parent_sees_the_family_view_without_the_restricted_entry_on_the_page_or_in_the_export(
    stack: Stack, page: Page
) -> None:
    page.sign_in("kerry.example")
    assert "My family" in page.text
    page.press("Amy Example")
    page.reload_until(lambda text: "Seen at A&E" in text, what="the family's timeline")
    text = page.text
    assert "Family view." in text and "Who is helping Amy" in text and "What has happened" in text
    assert "Sam Okafor" in text and "Lead professional" in text
    assert "Good for Amy" in text or "A worry for Amy" in text
    assert MARKER not in page.html and "Intelligence" not in text
    assert "Not shown to the family" not in text and "Mark as significant" not in text
    assert "Who has looked at this record" in text
    page.screenshot("06-child-page-family")

    # The same export links as on the page, with the parent's own sign-in cookie.
    cookie = page.driver.get_cookie("sg_session")
    assert cookie is not None and cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    jar = {"sg_session": cookie["value"]}
    csv = httpx.get(f"{stack.web.url}/children/{AMY}/chronology.csv", cookies=jar, timeout=10)
    assert csv.status_code == 200, csv.text
    assert "Seen at A&E with a wrist injury" in csv.text and MARKER not in csv.text
    page.open(f"/children/{AMY}/chronology/print")
    assert "Family view" in page.text and "Seen at A&E" in page.text and MARKER not in page.html

    # Nor can the parent reach the restricted entry through a filter.
    page.open(f"/children/{AMY}?agency=police")
    assert MARKER not in page.html


def test_signing_out_ends_the_session_and_pages_ask_to_sign_in_again(stack: Stack, page: Page) -> None:
    page.sign_in("tess.morgan")
    page.driver.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)  # a keyboard user's first key
    assert page.driver.switch_to.active_element.text == "Skip to main content"
    page.press("Sign out")
    assert "You have signed out" in page.text
    page.open(f"/children/{AMY}")
    assert page.driver.current_url.startswith(f"{stack.web.url}/sign-in?next=")
    assert "Team directory" not in page.text and "Signed in as" not in page.text
    assert page.driver.find_element(By.TAG_NAME, "h1").text == "Sign in"


BEN = "4010232137"  # a shielded demo child: lead Sam Okafor, parent Dan Sample
CLINIC = contact(
    "health",
    "2026-10-12T15:00:00Z",
    "health_appointment",
    "Clinic appointment kept; Amy is doing well.",
    sensitive_service=True,
)


def test_a_confidential_service_and_a_shielded_childs_team_stay_hidden_on_the_page(
    infra: Endpoints, stack: Stack, page: Page
) -> None:
    """Issue 9, rules 4 and 7, as the page shows them: the sexual health nurse and her clinic's contact are
    a neutral line for an ordinary member, absent from the family's team; a shielded child's parent sees
    roles, not names, contacts or authors."""
    publish(infra, [CLINIC])
    page.sign_in("tess.morgan")
    page.open(f"/children/{AMY}")
    page.reload_until(
        lambda text: "Clinic appointment kept" in text, what="the clinic's contact for a member"
    )
    text = page.text
    assert "Rae Lindqvist" not in page.html and "sexual health" not in page.html
    assert "A confidential health service" in page.driver.find_element(By.ID, "team").text
    clinic = page.driver.find_element(By.XPATH, "//article[contains(., 'Clinic appointment kept')]")
    assert (
        "A confidential health service" in clinic.text and "Recorded by a confidential service" in clinic.text
    )
    legend = page.driver.find_element(By.ID, "graph").text
    assert "A confidential health service" in legend and "Health" in legend  # a series of its own, unnamed
    assert "health:" + CLINIC["id"] not in page.html  # the entry's id does not name the agency either
    page.screenshot("07-child-page-hidden-provider-member")
    assert "Team directory" in text

    page.sign_in("kerry.example")
    page.open(f"/children/{AMY}")
    page.reload_until(
        lambda text: "Clinic appointment kept" in text, what="the clinic's contact for the family"
    )
    assert "Rae Lindqvist" not in page.html and "sexual health" not in page.html
    assert "confidential" not in page.driver.find_element(By.ID, "team").text.lower()
    page.screenshot("08-child-page-hidden-provider-family")

    page.sign_in("dan.sample")
    page.open(f"/children/{BEN}")
    team = page.driver.find_element(By.ID, "team").text
    assert "Name withheld" in team and "Withheld to keep Ben safe" in team
    assert "Sam Okafor" not in page.html and "sam.okafor@council.example" not in page.html
    assert "Refuge" not in page.html
    assert "Author withheld to keep your child safe" in page.driver.find_element(By.ID, "chronology").text
    page.screenshot("09-child-page-shielded-family")


def _new_conversation(page: Page) -> None:
    """Open the form to start a thread (it is open already while the forum has none)."""
    if page.driver.find_element(By.ID, "forum-new").get_attribute("open") is None:
        page.press("Start a new conversation")


PRIVATE_WORRY = f"Bruising seen on Amy's arm by school, ref {MARKER} <script>alert(1)</script>"


def test_the_forum_a_worry_a_parents_thought_and_scale_and_the_three_columns(
    stack: Stack, page: Page
) -> None:
    page.sign_in("sam.okafor")
    page.open(f"/children/{AMY}#forum")
    # The forum learns Amy's team from accounts.events, a moment after accounts.
    page.reload_until(
        lambda text: "Start a new conversation" in text, what="the forum's section for the lead"
    )
    _new_conversation(page)
    page.field("Subject").send_keys("Bruising seen at school")
    Select(page.field("Who can read it")).select_by_visible_text("Practitioners only")
    page.field("First post").send_keys(PRIVATE_WORRY)
    page.press("Start the conversation")
    assert "Your post is in the forum." in page.text
    assert PRIVATE_WORRY in page.text  # shown as the text it is: the script tag neither runs nor vanishes

    _new_conversation(page)
    page.field("Subject").send_keys("How things are at home")
    Select(page.field("Who can read it")).select_by_visible_text("Shared with the family")
    page.field("First post").send_keys("Following the strategy discussion we will start a s47 enquiry.")
    page.press("Check wording")
    assert "Check your wording" in page.text and "s47" in page.text and "Reading age" in page.text
    page.field("Your post").clear()
    page.field("Your post").send_keys(
        "We are worried that Amy has been hurt. We will talk with you on Monday."
    )
    page.press("Post")
    assert "Your post is in the forum." in page.text

    page.sign_in("kerry.example")
    page.open(f"/children/{AMY}#forum")
    page.reload_until(lambda text: "How things are at home" in text, what="the shared thread for the parent")
    assert MARKER not in page.html and "Bruising seen at school" not in page.text
    page.press("Add your thoughts")
    page.field("What would you like to say?").send_keys(
        "Amy is happier since her gran started picking her up."
    )
    Select(page.field("This is about")).select_by_visible_text("Working well")
    page.press("Post")
    assert "Your post is in the forum." in page.text
    page.press("Add your thoughts")
    page.field("How safe is Amy now?").send_keys("6")
    page.field("Why that number?").send_keys("Better than last month")
    page.press("Record the scale")
    assert "Your safety scale has been recorded." in page.text

    columns = {
        c.find_element(By.TAG_NAME, "h4").text: c.text
        for c in page.driver.find_elements(By.CSS_SELECTOR, "#forum .sos-column")
    }
    assert list(columns) == ["What are we worried about?", "What is working well?", "What needs to happen?"]
    assert "We are worried that Amy has been hurt" in columns["What are we worried about?"]
    assert "her gran started picking her up" in columns["What is working well?"]
    assert "In the family's own words" in page.text and "6/10" in page.text
    page.screenshot("20-forum-family")

    for words, found in (("hurt", True), ("Bruising", False)):  # the parent's search stops at shared threads
        page.open(f"/children/{AMY}#forum")
        page.field("Find words in the conversations").send_keys(words)
        page.press("Search")
        assert f"Posts with “{words}”" in page.text
        assert ("We are worried that Amy has been hurt" in page.text) is found
        assert "No post you can read has these words." in page.text or found
    page.screenshot("22-forum-search-family")

    page.sign_in("sam.okafor")
    page.open(f"/children/{AMY}#forum")
    text = page.driver.find_element(By.ID, "forum").text
    assert "Bruising seen at school" in text and "her gran started picking her up" in text
    assert "Kerry Example (family)" in text and "6/10" in text
    page.screenshot("21-forum-lead")


SHARED_WORDS = f"Homework club and reading practice are helping Amy settle, ref {MARKER}."
PRIVATE_WORDS = "Strategy discussion about the partner's violent history and police intelligence."
SHOTS = Path("/tmp/sg-scales-screenshots")


def _forum(stack: Stack, username: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = httpx.post(
        f"{stack.forum.url}/children/{AMY}/forum{path}",
        json=body,
        headers={"Authorization": f"Bearer {stack.token(username)}"},
        timeout=10,
    )
    assert answer.status_code == 201, answer.text
    found: dict[str, Any] = answer.json()
    return found


def _sections(page: Page, name: str) -> dict[str, str]:
    """The graph, the cloud and the scale chart as the page shows them; each also saved as a picture."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    found = {}
    for width, label in ((DESKTOP, "desktop"), (PHONE, "phone")):
        metrics = {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width == PHONE}
        page.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
        for section in ("graph", "cloud", "scales"):
            element = page.driver.find_element(By.ID, section)
            page.driver.execute_script("arguments[0].scrollIntoView()", element)
            (SHOTS / f"{name}-{section}-{label}.png").write_bytes(element.screenshot_as_png)
            found[section] = " ".join(str(element.text).split())
    page.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    return found


def test_the_graph_the_cloud_and_the_scale_chart_on_the_leads_page_and_the_familys(
    stack: Stack, page: Page
) -> None:
    page.sign_in("sam.okafor")
    page.open(f"/children/{AMY}")
    page.reload_until(lambda text: "Start a new conversation" in text, what="the forum knowing Amy's team")
    first = {"tag": "working_well", "kind": "progress"}
    shared = _forum(
        stack,
        "sam.okafor",
        "/threads",
        {"title": "Safety scales", "audience": "family", "first_post": {**first, "body": SHARED_WORDS}},
    )
    private = {
        "title": "Team only",
        "audience": "practitioners",
        "first_post": {**first, "body": PRIVATE_WORDS},
    }
    _forum(stack, "sam.okafor", "/threads", private)
    scales = f"/threads/{shared['thread_id']}/scales"
    _forum(stack, "sam.okafor", scales, {"score": 4, "comment": "Still worried about evenings"})
    _forum(stack, "kerry.example", scales, {"score": 7, "comment": "Much calmer at home"})
    _forum(stack, "sam.okafor", scales, {"score": 5})

    page.open(f"/children/{AMY}")
    page.reload_until(
        lambda text: "homework club" in text and "Safety scales over time" in text and "(latest 5)" in text,
        what="the lead's cloud and scale chart",
    )
    lead = _sections(page, "lead")
    assert page.driver.find_elements(By.CSS_SELECTOR, "#graph svg rect")  # the stacked columns
    assert len(page.driver.find_elements(By.CSS_SELECTOR, "#scales svg .scale-line")) >= 2
    assert "Sam Okafor (latest 5)" in lead["scales"] and "Kerry Example (latest 7)" in lead["scales"]
    assert "intelligence" in lead["cloud"] or "violent history" in lead["cloud"]
    page.press("Show every scale as a table")
    assert "Much calmer at home" in page.driver.find_element(By.ID, "scales").text
    page.screenshot("30-charts-lead")

    page.sign_in("kerry.example")
    page.open(f"/children/{AMY}")
    page.reload_until(lambda text: "homework club" in text, what="the family's cloud")
    family = _sections(page, "family")
    assert "Kerry Example (latest 7)" in family["scales"] and "Sam Okafor (latest 5)" in family["scales"]
    assert not any(w in family["cloud"] for w in ("intelligence", "violent", "police", "strategy"))
    words = {a.text for a in page.driver.find_elements(By.CSS_SELECTOR, "#cloud .cloud a")}
    assert words and not {w for w in words for n in ("amy", "kerry", "sam", "okafor") if n in w.lower()}
    assert page.driver.find_elements(By.CSS_SELECTOR, "#graph svg rect")
    page.screenshot("31-charts-family")
    page.open(f"/children/{AMY}?keyword=homework+club#cloud")  # the word chosen: where it came from
    chosen = page.driver.find_element(By.CSS_SELECTOR, "#cloud .cloud-entries").text
    assert "a post in the forum" in chosen, chosen
