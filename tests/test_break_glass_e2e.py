"""Break-glass is an exception, not a habit (issue 9, rule 13), tried through the real stack: accounts,
chronology and notifications run as processes on the real broker and FerretDB, and the demo people sign in
with passwords.

Hana Begum, a health visitor in no team, uses break-glass on Amy's record. What the API says happens must
happen: the use is on Amy's timeline for her lead (Sam) and not for her parent (Kerry), Sam's inbox gets the
alert, the auditor finds it in the log, and the grant is short, read-only and not renewed while it lasts.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from devstack.infra import Endpoints
from shared.topics import Topics
from testsupport.accounts import demo_services, signed_in_token
from testsupport.services import IsolatedRun, ServiceProcess, wait_for

pytestmark = pytest.mark.e2e
LOGS = Path(__file__).resolve().parent.parent / ".cache" / "test-logs"
TOPICS = Topics(prefix=f"g{uuid.uuid4().hex[:8]}.")
PASSWORD = f"demo-{uuid.uuid4().hex[:12]}"
AMY = "9434765919"  # devstack.demo_accounts: lead Sam Okafor, parent Kerry Example
REASON = f"Amy arrived at A&E alone late at night, ref {uuid.uuid4().hex[:8]}; need her plan and contacts"
STARTUP_S = 180.0  # a service's imports alone took a minute on this shared 2-core machine under load


@dataclass
class Stack:
    accounts: ServiceProcess
    chronology: ServiceProcess
    notifications: ServiceProcess

    def headers(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {signed_in_token(self.accounts.url, username, PASSWORD)}"}

    def get(self, svc: ServiceProcess, path: str, who: str, **params: Any) -> httpx.Response:
        return httpx.get(f"{svc.url}{path}", params=params, headers=self.headers(who), timeout=10)

    def post(self, path: str, who: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return httpx.post(f"{self.accounts.url}{path}", json=body, headers=self.headers(who), timeout=10)

    def account_entries(self, who: str) -> list[str]:
        answer = self.get(self.chronology, f"/children/{AMY}/chronology", who, kind="account", limit=500)
        assert answer.status_code == 200, answer.text
        return [e["summary"] for e in answer.json()["entries"]]

    def inbox(self, who: str) -> list[dict[str, Any]]:
        answer = self.get(self.notifications, "/notifications", who)
        assert answer.status_code == 200, answer.text
        found: list[dict[str, Any]] = answer.json()["notifications"]
        return found


@pytest.fixture(scope="module")
def stack(infra: Endpoints) -> Iterator[Stack]:
    run = IsolatedRun.with_topics(infra, topics=TOPICS, log_dir=LOGS)
    names = ("chronology", "notifications")
    with demo_services(run, names, password=PASSWORD, ready_within=STARTUP_S) as started:
        yield Stack(**started)


def test_break_glass_needs_a_purpose_and_substance_is_short_read_only_and_never_renewed(
    stack: Stack,
) -> None:
    ask = f"/children/{AMY}/break-glass"
    # Before: Hana has no relationship with Amy, so the chronology is closed to her.
    assert stack.get(stack.chronology, f"/children/{AMY}/chronology", "hana.begum").status_code == 403

    for refused in (
        {"purpose": "immediate_risk_of_harm", "reason": "urgent"},  # three words are not a reason
        {"purpose": "curiosity", "reason": REASON},  # a purpose from the list only
        {"reason": REASON},
    ):
        answer = stack.post(ask, "hana.begum", refused)
        assert answer.status_code == 422, (refused, answer.text)

    granted = stack.post(ask, "hana.begum", {"purpose": "immediate_risk_of_harm", "reason": REASON})
    assert granted.status_code == 201, granted.text
    body = granted.json()
    expires = datetime.fromisoformat(body["expires_at"])
    assert timedelta(0) < expires - datetime.now(UTC) <= timedelta(minutes=31)  # short: not four hours
    assert "lead professional" in body["message"] and "timeline" in body["message"]

    # Not renewed while it lasts, not even with new words.
    again = stack.post(ask, "hana.begum", {"purpose": "missing_child", "reason": REASON + " and more"})
    assert again.status_code == 403 and "already have an active" in again.text, again.text

    # Read-only: she reads the chronology (once it has the grant from accounts.events), and can change
    # nothing on the account.
    def reads() -> bool:
        return stack.get(stack.chronology, f"/children/{AMY}/chronology", "hana.begum").status_code == 200

    wait_for(reads, within=60, what="the grant in the chronology's access snapshot")
    join = stack.post(f"/children/{AMY}/leave", "hana.begum")
    assert join.status_code == 403, join.text
    link = stack.post(
        f"/children/{AMY}/family", "hana.begum", {"person_id": "p-dan-sample", "relationship": "parent"}
    )
    assert link.status_code == 403, link.text


def test_the_use_reaches_the_leads_timeline_and_inbox_and_the_audit_log_but_not_the_family(
    stack: Stack,
) -> None:
    def on_the_leads_timeline() -> bool:
        return any(REASON in s for s in stack.account_entries("sam.okafor"))

    wait_for(on_the_leads_timeline, within=60, what="the break-glass entry on the lead's timeline")
    [entry] = [s for s in stack.account_entries("sam.okafor") if REASON in s]
    assert "health visitor" in entry and "immediate risk of harm" in entry

    def alerted() -> bool:
        return any(n["kind"] == "break_glass_used" for n in stack.inbox("sam.okafor"))

    wait_for(alerted, within=60, what="the break-glass alert in the lead's inbox")
    [alert] = [n for n in stack.inbox("sam.okafor") if n["kind"] == "break_glass_used"]
    assert alert["child_id"] == AMY and alert["urgent"]
    assert REASON not in str(alert)  # the inbox says that it happened; the record says why

    # The family: never the entry (the reason may say what the emergency is), never the alert.
    kerry = stack.account_entries("kerry.example")
    assert kerry and not any("break-glass" in s.lower() or REASON in s for s in kerry)
    assert not any(n["kind"] == "break_glass_used" for n in stack.inbox("kerry.example"))
    assert not any(n["kind"] == "break_glass_used" for n in stack.inbox("hana.begum"))

    def audited() -> list[dict[str, Any]]:
        log = stack.get(stack.accounts, "/audit", "ana.audit", child_id=AMY, action="break_glass.used")
        assert log.status_code == 200, log.text
        return [e for e in log.json() if e["break_glass"]]

    wait_for(lambda: bool(audited()), within=60, what="the break-glass use in the audit log")
    [used] = audited()
    assert used["actor_id"] == "p-hana-begum" and used["purpose"] == REASON, used
