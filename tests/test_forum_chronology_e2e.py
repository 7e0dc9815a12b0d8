"""The forum and the chronology together, through the real broker and FerretDB (both apps in-process, on a
run's own topics): a worry in a shared thread reaches the family's chronology, one in a practitioner-only
thread only the team's; a redaction by the lead reaches the chronology entries and the exports; the same
forum event delivered twice changes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from faststream.kafka import KafkaBroker

from chronology.app import create_app as chronology_app
from chronology.settings import ChronologySettings
from devstack.infra import Endpoints
from forum.app import create_app as forum_app
from forum.settings import ForumSettings
from shared.audit import MemoryAuditSink
from shared.contracts.forum import TYPE_OF, Participant, PostAdded
from shared.events import make_event
from shared.kafka.broker import publish_event
from shared.policy import PrincipalKind
from shared.topics import Topics
from testsupport.events import account_opened, new_nhs_number
from testsupport.identities import Identities
from testsupport.inprocess import apps_on_a_run
from testsupport.offline import eventually_async

pytestmark = pytest.mark.integration
IDS = Identities()
LEAD, PARENT = "lead-1", "parent-1"


@dataclass
class Both:
    forum: httpx.AsyncClient
    chronology: httpx.AsyncClient
    broker: KafkaBroker
    topics: Topics

    @staticmethod
    def headers(who: str) -> dict[str, str]:
        kind: PrincipalKind = "family" if who == PARENT else "practitioner"
        return IDS.headers(who, kind=kind)

    async def forum_call(
        self, method: str, path: str, body: Any = None, *, who: str = LEAD
    ) -> dict[str, Any]:
        answer = await self.forum.request(method, path, json=body, headers=self.headers(who))
        assert answer.status_code in (200, 201), answer.text
        found: dict[str, Any] = answer.json()
        return found

    async def forum_entries(self, child: str, who: str = LEAD) -> list[str]:
        answer = await self.chronology.get(
            f"/children/{child}/chronology", params={"kind": "forum"}, headers=self.headers(who)
        )
        assert answer.status_code == 200, answer.text
        return [e["summary"] for e in answer.json()["entries"]]

    async def until(self, child: str, want: list[str], who: str = LEAD) -> None:
        async def there() -> bool:
            return sorted(await self.forum_entries(child, who)) == sorted(want)

        await eventually_async(there, what=f"the forum entries {want} in {who}'s chronology")


@pytest.fixture
async def both(infra: Endpoints) -> AsyncIterator[Both]:
    apps = {
        "forum": lambda common, db: forum_app(
            ForumSettings(**common, mongo_db=db), audit_sink=MemoryAuditSink()
        ),
        "chronology": lambda common, db: chronology_app(
            ChronologySettings(**common, mongo_db=db), audit_sink=MemoryAuditSink()
        ),
    }
    async with apps_on_a_run(infra, apps, jwks=IDS.jwks_json()) as run:
        yield Both(run.clients["forum"], run.clients["chronology"], run.publisher, run.topics)


async def _open(both: Both) -> str:
    child = new_nhs_number()
    for event in account_opened(child, lead_id=LEAD, family_id=PARENT):
        await publish_event(both.broker, both.topics.accounts_events, event)

    # Each service keeps its own access model from accounts.events, so wait until both know the family link:
    # the chronology can apply forum.events (another topic) before it reaches the link on accounts.events.
    async def known() -> bool:
        forum = await both.forum.get(f"/children/{child}/forum", headers=both.headers(PARENT))
        chronology = await both.chronology.get(f"/children/{child}/chronology", headers=both.headers(PARENT))
        return forum.status_code == 200 and chronology.status_code == 200

    await eventually_async(known, what="the forum and the chronology learning the child's account")
    return child


def _thread(audience: str, body: str) -> dict[str, Any]:
    return {
        "title": "t",
        "audience": audience,
        "first_post": {"body": body, "tag": "worry", "kind": "concern"},
    }


async def test_worries_reach_the_chronology_with_their_threads_audience(both: Both) -> None:
    child = await _open(both)
    base = f"/children/{child}/forum/threads"
    await both.forum_call("POST", base, _thread("family", "Amy missed school all week."))
    await both.forum_call("POST", base, _thread("practitioners", "Police intelligence on the partner."))

    shared = "Worry raised in the forum by a Social worker (socialcare): Amy missed school all week."
    private = "Worry raised in the forum by a Social worker (socialcare): Police intelligence on the partner."
    await both.until(child, [shared, private])
    assert await both.forum_entries(child, PARENT) == [shared]


async def test_a_redaction_reaches_the_chronology_and_the_exports(both: Both) -> None:
    child = await _open(both)
    thread = await both.forum_call(
        "POST", f"/children/{child}/forum/threads", _thread("family", "They moved to 4 Hidden Lane.")
    )
    post_id = thread["posts"][0]["post_id"]
    await both.forum_call("PUT", f"/children/{child}/forum/posts/{post_id}/pin", {"pin": "danger_statement"})
    await both.until(
        child,
        [
            "Worry raised in the forum by a Social worker (socialcare): They moved to 4 Hidden Lane.",
            "Danger statement, pinned by a Social worker (socialcare): They moved to 4 Hidden Lane.",
        ],
    )

    await both.forum_call(
        "POST", f"/children/{child}/forum/posts/{post_id}/redact", {"reason": "names the refuge"}
    )

    redacted = "Redacted by the lead professional: names the refuge"
    await both.until(child, [redacted, redacted], who=PARENT)
    for path in ("export.csv", "print"):
        export = await both.chronology.get(
            f"/children/{child}/chronology/{path}", headers=both.headers(PARENT)
        )
        assert (
            export.status_code == 200
            and "Hidden Lane" not in export.text
            and "names the refuge" in export.text
        )
    board = await both.forum_call("GET", f"/children/{child}/forum", who=PARENT)
    assert "Hidden Lane" not in str(board)


async def test_the_same_forum_event_delivered_twice_changes_nothing(both: Both) -> None:
    child = await _open(both)
    by = Participant(person_id=LEAD, name="Test lead-1", kind="practitioner")
    data = PostAdded(
        child_id=child,
        thread_id="t",
        audience="family",
        by=by,
        at=datetime.now(UTC),
        post_id="p1",
        tag="worry",
        kind="concern",
        body="Delivered twice.",
    )
    event = make_event(type=TYPE_OF[PostAdded], source="forum", subject=child, data=data)
    for _ in range(2):
        await publish_event(both.broker, both.topics.forum_events, event)
    marker = make_event(
        type=TYPE_OF[PostAdded],
        source="forum",
        subject=child,
        data=data.model_copy(update={"post_id": "p2", "body": "After."}),
    )
    await publish_event(both.broker, both.topics.forum_events, marker)

    await both.until(
        child,
        [
            "Worry raised in the forum by a practitioner: Delivered twice.",
            "Worry raised in the forum by a practitioner: After.",
        ],
    )
