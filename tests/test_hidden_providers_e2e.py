"""A confidential service stays confidential, and a shielded child stays hidden, on every path (issue 9, rules
4, 5 and 7), tried through the real stack: accounts, chronology, analytics and the forum run as processes on
the real broker and FerretDB, the demo people sign in with passwords, and an agency's own client
(confluent-kafka) publishes the contacts.

Amy (demo) has Rae Lindqvist, a sexual health nurse, in her team; Kerry is her parent, Tess an ordinary
member, Sam the lead. Ben (demo) is shielded; Dan is his parent. Each attempt is made as the parent, as an
ordinary member and as the named role, and looks at everything the answer holds, not just one field: the
header and directory, the chronology and its exports, the graph, who viewed the record, the safety scales
and the forum with its search and export.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from devstack.infra import Endpoints
from shared.policy import HIDDEN_PROVIDER
from shared.topics import Topics
from testsupport.accounts import demo_services, signed_in_token
from testsupport.agency import Agency, contact_event_json
from testsupport.services import IsolatedRun, ServiceProcess, wait_for

pytestmark = pytest.mark.e2e
LOGS = Path(__file__).resolve().parent.parent / ".cache" / "test-logs"
TOPICS = Topics(prefix=f"h{uuid.uuid4().hex[:8]}.")
PASSWORD = f"demo-{uuid.uuid4().hex[:12]}"
AMY, BEN = "9434765919", "4010232137"  # devstack.demo_accounts
MARK = uuid.uuid4().hex[:8]
STARTUP_S = 180.0  # a service's imports alone took a minute on this shared 2-core machine under load
# What would identify the nurse or her service: her name, her role, her user name and work address.
NURSE = ("Rae", "Lindqvist", "rae.lindqvist", "sexual health", "p-rae-lindqvist")


@dataclass
class Stack:
    accounts: ServiceProcess
    chronology: ServiceProcess
    analytics: ServiceProcess
    forum: ServiceProcess

    def headers(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {signed_in_token(self.accounts.url, username, PASSWORD)}"}

    def get(self, svc: ServiceProcess, path: str, who: str, **params: Any) -> httpx.Response:
        return httpx.get(f"{svc.url}{path}", params=params, headers=self.headers(who), timeout=10)

    def post(
        self, path: str, who: str, body: dict[str, Any] | None = None, *, svc: ServiceProcess | None = None
    ) -> httpx.Response:
        url = f"{(svc or self.accounts).url}{path}"
        return httpx.post(url, json=body, headers=self.headers(who), timeout=10)

    def chronology_of(self, child: str, who: str, **params: Any) -> dict[str, Any]:
        answer = self.get(self.chronology, f"/children/{child}/chronology", who, limit=500, **params)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    def summaries(self, child: str, who: str) -> list[str]:
        answer = self.get(self.chronology, f"/children/{child}/chronology", who, limit=500)
        return [e["summary"] for e in answer.json()["entries"]] if answer.status_code == 200 else []

    def every_path(self, child: str, who: str, *, threads: tuple[str, ...] = ()) -> dict[str, str]:
        """Everything `who` can read about the child, by path, as the text that reached them (`threads`: the
        forum threads to open one by one too)."""
        paths: dict[str, tuple[ServiceProcess, str, dict[str, Any]]] = {
            "header and team directory": (self.accounts, f"/children/{child}", {}),
            "viewers": (self.accounts, f"/children/{child}/viewers", {}),
            "chronology": (self.chronology, f"/children/{child}/chronology", {"limit": 500}),
            "CSV export": (self.chronology, f"/children/{child}/chronology/export.csv", {}),
            "printable export": (self.chronology, f"/children/{child}/chronology/print", {}),
            "graph": (self.analytics, f"/children/{child}/contact-graph", {"granularity": "day"}),
            "safety scales": (self.analytics, f"/children/{child}/safety-scales", {}),
            "safety-scale chart": (self.analytics, f"/children/{child}/safety-scales.svg", {}),
            "forum": (self.forum, f"/children/{child}/forum", {}),
            "forum search": (self.forum, f"/children/{child}/forum/search", {"q": MARK}),
            "forum export": (self.forum, f"/children/{child}/forum/export", {}),
        }
        for thread in threads:
            paths[f"forum thread {thread}"] = (self.forum, f"/children/{child}/forum/threads/{thread}", {})
        texts = {}
        for name, (svc, path, params) in paths.items():
            answer = self.get(svc, path, who, **params)
            assert answer.status_code == 200, f"{who} {name}: {answer.status_code} {answer.text[:200]}"
            texts[name] = answer.text
        return texts


@pytest.fixture(scope="module")
def stack(infra: Endpoints) -> Iterator[Stack]:
    run = IsolatedRun.with_topics(infra, topics=TOPICS, log_dir=LOGS)
    names = ("chronology", "analytics", "forum")
    with demo_services(run, names, password=PASSWORD, ready_within=STARTUP_S) as started:
        yield Stack(**started)


def contact(child: str, summary: str, *, agency: str = "school", **data: Any) -> dict[str, Any]:
    event = contact_event_json(child, agency=agency, summary=f"{summary} ({MARK})")
    event["data"].update(data)
    return event


def publish(infra: Endpoints, *events: dict[str, Any]) -> None:
    agency = Agency(infra, TOPICS)
    for event in events:
        agency.publish(event, key=event["subject"], agency=event["source"])
    agency.flush()


def leaks(texts: dict[str, str], words: tuple[str, ...]) -> list[str]:
    return [f"{word!r} in the {path}" for path, text in texts.items() for word in words if word in text]


@pytest.fixture(scope="module")
def amy(infra: Endpoints, stack: Stack) -> dict[str, dict[str, Any]]:
    """Amy's record with a sensitive clinic contact, a correction of a restricted entry, a RAG rating, and
    the nurse's departure from the team (made over HTTP, so accounts authors the event)."""
    restricted = contact(AMY, "Concern raised by a neighbour", visibility="restricted", rag="red")
    events = {
        "clinic": contact(
            AMY, "Clinic appointment kept", agency="health", sensitive_service=True, rag="green"
        ),
        "rated": contact(AMY, "Attendance reviewed", rag="amber"),
        "restricted": restricted,
        "correction": contact(AMY, "Concern withdrawn", supersedes=restricted["id"]),
    }
    # the directory before she leaves: one neutral line for Tess, nothing for Kerry, her name for Sam
    team = {
        who: stack.get(stack.accounts, f"/children/{AMY}", who).json()["team"]
        for who in ("kerry.example", "tess.morgan", "sam.okafor")
    }
    publish(infra, *events.values())
    left = stack.post(f"/children/{AMY}/leave", "rae.lindqvist")
    assert left.status_code == 204, left.text
    wait_for(
        lambda: (
            sum(MARK in s for s in stack.summaries(AMY, "sam.okafor")) == 4
            and "A practitioner left the team." in stack.summaries(AMY, "sam.okafor")
        ),
        what="Amy's contacts and the nurse's leaving on the lead's timeline",
    )
    # The correction counts in place of the restricted entry it corrects; the school's events arrive in order
    # (one partition), so three for the lead and the family means all four are in.
    wait_for(
        lambda: all(
            stack.get(stack.analytics, f"/children/{AMY}/contact-graph", who).json()["total"] == 3
            for who in ("sam.okafor", "kerry.example")
        ),
        what="Amy's contacts in the graph",
    )
    return {"events": events, "team": team}


def test_the_nurse_is_named_to_no_parent_and_no_ordinary_member_on_any_path(
    stack: Stack, amy: dict[str, Any]
) -> None:
    for who in ("kerry.example", "amy.example", "tess.morgan"):
        assert leaks(stack.every_path(AMY, who), NURSE) == [], who
    lead = stack.every_path(AMY, "sam.okafor")
    assert "Rae Lindqvist" in lead["chronology"]  # the named role sees who left: the test can fail


def test_the_nurse_leaving_is_on_the_timeline_without_her_for_the_team_and_not_at_all_for_the_family(
    stack: Stack, amy: dict[str, Any]
) -> None:
    def about_the_nurse(who: str) -> list[dict[str, Any]]:
        entries = stack.chronology_of(AMY, who, kind="account")["entries"]
        return [e for e in entries if e["sensitive_service"] or e["provider_hidden"]]

    assert about_the_nurse("kerry.example") == []  # neither her joining nor her leaving
    member = about_the_nurse("tess.morgan")
    assert [e["summary"] for e in member] == [
        f"A practitioner from {HIDDEN_PROVIDER} joined the team.",
        "A practitioner left the team.",
    ]
    assert all(e["author"] is None and e["provider_hidden"] for e in member)
    lead = about_the_nurse("sam.okafor")
    assert [e["author"]["name"] for e in lead] == ["Sam Okafor", "Rae Lindqvist"]


def test_the_team_directory_shows_the_nurse_as_a_neutral_line_to_members_and_not_at_all_to_the_family(
    amy: dict[str, Any],
) -> None:
    team = amy["team"]
    assert [m["name"] for m in team["kerry.example"]] == ["Sam Okafor", "Tess Morgan"]
    hidden = [m for m in team["tess.morgan"] if m["person_id"] is None]
    assert [(m["name"], m["agency"], m["role"], m["contact"]) for m in hidden] == [
        ("A confidential health service", None, None, None)
    ]
    assert "Rae Lindqvist" in [m["name"] for m in team["sam.okafor"]]


def test_filtering_by_the_hidden_providers_agency_answers_as_for_an_agency_with_no_entries(
    stack: Stack, amy: dict[str, Any]
) -> None:
    for who in ("tess.morgan", "kerry.example"):
        by_its_agency = stack.chronology_of(AMY, who, agency="health")
        by_an_empty_one = stack.chronology_of(AMY, who, agency="housing")
        assert (
            by_its_agency
            == by_an_empty_one
            == {
                "child_id": AMY,
                "total": 0,
                "entries": [],
                "next_cursor": None,
            }
        ), who
        (clinic,) = stack.chronology_of(AMY, who, agency=HIDDEN_PROVIDER)["entries"]
        assert clinic["agency"] == HIDDEN_PROVIDER and clinic["author"] is None
        assert not clinic["id"].startswith("health:"), clinic["id"]  # ids name the agency otherwise
    (clinic,) = stack.chronology_of(AMY, "sam.okafor", agency="health")["entries"]
    assert clinic["id"] == f"health:{amy['events']['clinic']['id']}"


def test_the_graph_folds_the_hidden_provider_into_one_neutral_series(
    stack: Stack, amy: dict[str, Any]
) -> None:
    def series(who: str) -> dict[str, int]:
        graph = stack.get(stack.analytics, f"/children/{AMY}/contact-graph", who).json()
        return {s["agency"]: sum(n for _, n in s["points"]) for s in graph["series"]}

    assert series("tess.morgan") == {HIDDEN_PROVIDER: 1, "school": 2}
    assert series("kerry.example") == {HIDDEN_PROVIDER: 1, "school": 2}
    assert series("sam.okafor") == {"health": 1, "school": 2}


def test_the_familys_exports_show_no_rag_rating_and_no_pointer_to_a_restricted_entry(
    stack: Stack, amy: dict[str, Any]
) -> None:
    restricted_id = f"school:{amy['events']['restricted']['id']}"
    family = stack.every_path(AMY, "kerry.example")
    for path in ("chronology", "CSV export", "printable export"):
        for word in ('"rag":"', "amber", "green", "RAG", restricted_id, amy["events"]["restricted"]["id"]):
            assert word not in family[path], f"{word!r} in the family's {path}"
    entries = stack.chronology_of(AMY, "kerry.example")["entries"]
    correction = next(e for e in entries if e["summary"].startswith("Concern withdrawn"))
    assert correction["supersedes"] is None and all(e["rag"] is None for e in entries)
    rows = list(csv.DictReader(io.StringIO(family["CSV export"])))
    assert rows and "RAG" not in rows[0]

    lead = stack.chronology_of(AMY, "sam.okafor")["entries"]
    lead_correction = next(e for e in lead if e["summary"].startswith("Concern withdrawn"))
    assert lead_correction["supersedes"] == restricted_id
    assert {e["rag"] for e in lead if e["rag"]} == {"red", "amber", "green"}
    lead_rows = list(csv.DictReader(io.StringIO(stack.every_path(AMY, "sam.okafor")["CSV export"])))
    assert {r["RAG"] for r in lead_rows if r["RAG"]} == {"red", "amber", "green"}


# --------------------------------------------------------------------------- shielding (rule 7)


@pytest.fixture(scope="module")
def ben(infra: Endpoints, stack: Stack) -> str:
    """Ben is shielded: Tess joins his team (asked and approved over HTTP) and the school records a visit; Sam
    and Tess open his record, and in a thread shared with the family Sam raises a worry, Tess answers naming
    Sam, Dan adds his words, and each of the three gives a safety scale. Returns the thread's id."""
    asked = stack.post(f"/children/{BEN}/join-requests", "tess.morgan", {"reason": "Ben's new school's DSL"})
    # Asked of a shielded child she has no relationship with: 'sent', as for an id with no account; the lead
    # finds the request among those waiting.
    assert asked.status_code == 202, asked.text
    waiting = stack.get(stack.accounts, f"/children/{BEN}/join-requests", "sam.okafor")
    assert waiting.status_code == 200, waiting.text
    [request] = [r for r in waiting.json() if r["person_id"] == "p-tess-morgan"]
    approved = stack.post(
        f"/children/{BEN}/join-requests/{request['request_id']}/approve", "sam.okafor", {"reason": None}
    )
    assert approved.status_code == 200, approved.text
    publish(infra, contact(BEN, "Settling in well", author={"name": "Ms Kaur", "role": "Class teacher"}))
    wait_for(
        lambda: any(MARK in s for s in stack.summaries(BEN, "tess.morgan")),
        what="Ben's school contact on the new member's timeline",
    )
    wait_for(
        lambda: (
            stack.get(stack.analytics, f"/children/{BEN}/contact-graph", "tess.morgan").status_code == 200
        ),
        what="Tess's membership in analytics",
    )
    wait_for(
        lambda: stack.get(stack.forum, f"/children/{BEN}/forum", "tess.morgan").status_code == 200,
        what="Tess's membership in the forum",
    )
    for who in ("sam.okafor", "tess.morgan"):
        assert stack.get(stack.accounts, f"/children/{BEN}", who).status_code == 200

    def forum(path: str, who: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = stack.post(f"/children/{BEN}/forum{path}", who, body, svc=stack.forum)
        assert answer.status_code == 201, f"{who} {path}: {answer.text}"
        found: dict[str, Any] = answer.json()
        return found

    worry = {"body": f"Ben is scared at pick-up ({MARK}).", "tag": "worry", "kind": "concern"}
    thread = forum("/threads", "sam.okafor", {"title": "Pick-up", "audience": "family", "first_post": worry})
    tid = thread["thread_id"]
    answer = {"body": f"Calmer in class ({MARK}).", "tag": "working_well", "kind": "progress"}
    forum(f"/threads/{tid}/posts", "tess.morgan", {**answer, "mentions": ["p-sam-okafor"]})
    forum(
        f"/threads/{tid}/posts",
        "dan.sample",
        {"body": "He likes Ms K.", "tag": "working_well", "kind": "progress"},
    )
    for who, score in (("sam.okafor", 4), ("tess.morgan", 6), ("dan.sample", 7)):
        forum(f"/threads/{tid}/scales", who, {"score": score, "comment": f"{score} from {who[:3]}"})

    def lead_sees(svc: ServiceProcess, path: str, *names: str) -> bool:
        answer = stack.get(svc, path, "sam.okafor")
        return answer.status_code == 200 and all(name in answer.text for name in names)

    both = ("Sam Okafor", "Tess Morgan")
    wait_for(lambda: lead_sees(stack.accounts, f"/children/{BEN}/viewers", *both), what="Ben's viewers")
    wait_for(
        lambda: lead_sees(stack.analytics, f"/children/{BEN}/safety-scales", *both, "Dan Sample"),
        what="Ben's safety scales in analytics",
    )
    wait_for(
        lambda: sum("said how safe" in s for s in stack.summaries(BEN, "sam.okafor")) == 3,
        what="Ben's safety scales on the lead's timeline",
    )
    return str(tid)


# Who could lead to where Ben is: the practitioners' names, their work addresses, the author of a contact.
WHEREABOUTS = (
    "Sam Okafor",
    "sam.okafor",
    "p-sam-okafor",
    "Ms Kaur",
    "Class teacher",
    "Tess Morgan",
    "tess.morgan",
    "p-tess-morgan",
    "Refuge",
    "St Mary",
    "Burmantofts",
)
TESS = ("Tess Morgan", "tess.morgan", "p-tess-morgan")


def test_a_shielded_childs_parent_learns_no_name_contact_or_author_that_could_say_where_he_is(
    stack: Stack, ben: str
) -> None:
    texts = stack.every_path(BEN, "dan.sample", threads=(ben,))
    assert leaks(texts, WHEREABOUTS) == []
    team = json.loads(texts["header and team directory"])["team"]
    assert [(m["name"], m["role"], m["lead"], m["details_withheld"]) for m in team] == [
        ("Name withheld", "social worker", True, True),
        ("Name withheld", "designated safeguarding lead", False, True),
    ]
    entries = stack.chronology_of(BEN, "dan.sample")["entries"]
    assert entries and all(e["author"] is None and e["author_withheld"] for e in entries)
    # Withheld, not left out: who looked, who posted and who scored are there by role, each apart.
    viewers = json.loads(texts["viewers"])
    assert {(v["name"], v["role"]) for v in viewers if v["details_withheld"]} == {
        ("Name withheld", "social worker"),
        ("Name withheld", "designated safeguarding lead"),
    }
    lines = json.loads(texts["safety scales"])["lines"]
    assert [(ln["name"], ln["details_withheld"]) for ln in lines] == [
        ("Dan Sample", False),
        ("Name withheld (social worker)", True),
        ("Name withheld (designated safeguarding lead)", True),
    ]
    posts = json.loads(texts[f"forum thread {ben}"])["posts"]
    assert [(p["author"]["name"], p["author"]["role"]) for p in posts] == [
        ("Name withheld", "social worker"),
        ("Name withheld", "designated safeguarding lead"),
        ("Dan Sample", "parent"),
    ]
    assert len({p["author"]["person_id"] for p in posts}) == 3
    assert [m["name"] for m in posts[1]["mentions"]] == ["Name withheld"]


def test_a_shielded_childs_ordinary_member_sees_roles_not_colleagues_names_or_authors(
    stack: Stack, ben: str
) -> None:
    texts = stack.every_path(BEN, "tess.morgan", threads=(ben,))
    others = tuple(w for w in WHEREABOUTS if w not in TESS)
    assert leaks(texts, others) == []
    team = json.loads(texts["header and team directory"])["team"]
    mine = next(m for m in team if m["name"] == "Tess Morgan")
    assert mine["contact"] == "tess.morgan@council.example" and not mine["details_withheld"]
    assert all(e["author"] is None for e in stack.chronology_of(BEN, "tess.morgan")["entries"])
    # Nobody is hidden from themself: Tess's own view, scale and post carry her name.
    for path in ("viewers", "safety scales", "forum", f"forum thread {ben}", "forum export"):
        assert "Tess Morgan" in texts[path], path
    posts = json.loads(texts[f"forum thread {ben}"])["posts"]
    assert [p["author"]["name"] for p in posts] == ["Name withheld", "Tess Morgan", "Dan Sample"]


def test_the_shielded_childs_lead_sees_every_name_contact_and_author(stack: Stack, ben: str) -> None:
    texts = stack.every_path(BEN, "sam.okafor", threads=(ben,))
    found = set(leaks(texts, ("Sam Okafor", "tess.morgan@council.example", "Ms Kaur", "4 Refuge Close")))
    named_sam = (
        "viewers",
        "safety scales",
        "safety-scale chart",
        "forum",
        "forum search",
        "forum export",
        f"forum thread {ben}",
    )
    assert found == {
        f"{w!r} in the {p}"
        for p, w in (
            ("header and team directory", "Sam Okafor"),
            ("header and team directory", "tess.morgan@council.example"),
            ("header and team directory", "4 Refuge Close"),
            ("chronology", "Sam Okafor"),
            ("chronology", "Ms Kaur"),
            ("CSV export", "Sam Okafor"),
            ("CSV export", "Ms Kaur"),
            ("printable export", "Sam Okafor"),
            ("printable export", "Ms Kaur"),
            *((p, "Sam Okafor") for p in named_sam),
        )
    }
    for path in ("viewers", "safety scales", "safety-scale chart", "forum", "forum export"):
        assert "Tess Morgan" in texts[path], path
