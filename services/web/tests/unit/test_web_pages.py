"""The pages against fake backends (httpx's MockTransport): what each person sees, the forms' CSRF checks,
escaping of what people typed, and that every backend call carries the signed-in person's own token."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from shared.policy import PrincipalKind
from testsupport.identities import Identities
from web import security
from web.app import create_app
from web.settings import WebSettings

CHILD = "9434765919"
IDS = Identities()


def header(view: str = "full", relationship: str = "lead", **changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "child_id": CHILD,
        "view": view,
        "relationship": relationship,
        "given_name": "Amy",
        "family_name": "Example",
        "date_of_birth": "2014-05-14",
        "nhs_number": CHILD,
        "address": "12 Elm Road, Leeds",
        "postcode": "LS6 2AB",
        "school": "Park Hill Academy",
        "gp": "Hyde Park Surgery",
        "location_hidden": False,
        "team": [
            {
                "person_id": "p-sam",
                "name": "Sam Okafor",
                "agency": "socialcare",
                "role": "social worker",
                "contact": "sam.okafor@council.example",
                "lead": True,
                "joined_at": "2026-01-01T09:00:00Z",
            },
            {
                "person_id": None,
                "name": "A confidential health service",
                "agency": None,
                "role": None,
                "contact": None,
                "lead": False,
                "joined_at": "2026-01-02T09:00:00Z",
            },
        ],
        "family": [],
    }
    base.update(changes)
    return base


def entry(entry_id: str, summary: str, **changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": entry_id,
        "child_id": CHILD,
        "agency": "school",
        "author": {"name": "Ms Patel", "role": "DSL"},
        "occurred_at": "2026-03-02T09:15:00Z",
        "period_end": None,
        "date_uncertain": False,
        "day": "2026-03-02",
        "contact_type": "home_visit",
        "summary": summary,
        "impact": "negative",
        "action_taken": None,
        "outcome": None,
        "significant": False,
        "rag": None,
        "visibility": "family_visible",
        "sensitive_service": False,
        "recorded_at": "2026-03-02T10:00:00Z",
    }
    base.update(changes)
    return base


@dataclass
class Backends:
    """Canned answers by (method, host, path); records every request the web made."""

    answers: dict[tuple[str, str, str], tuple[int, Any]] = field(default_factory=dict)
    seen: list[httpx.Request] = field(default_factory=list)

    def on(self, method: str, host: str, path: str, body: Any, status: int = 200) -> None:
        self.answers[(method, host, path)] = (status, body)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        if request.url.path == "/healthz":
            return httpx.Response(200, json={"status": "ok"})
        status, body = self.answers.get(
            (request.method, request.url.host, request.url.path), (404, {"detail": "not here"})
        )
        if status == 404 and request.url.host == "accounts" and request.url.path.endswith("/overview"):
            status, body = self._overview(request.url.path.removesuffix("/overview"))
        if status == 404 and request.url.host == "analytics" and request.url.path.endswith("/overview"):
            status, body = self._analytics_overview(request.url.path.removesuffix("/overview"))
        if isinstance(body, str):
            return httpx.Response(status, text=body, headers={"content-type": "text/csv"})
        return httpx.Response(status, json=body)

    def _overview(self, child: str) -> tuple[int, Any]:
        """Accounts' overview as the header and viewers answers given make it (a refusal of the viewers
        leaves them out, with the reason, as accounts does)."""
        status, header = self.answers.get(("GET", "accounts", child), (404, {"detail": "not here"}))
        if status != 200:
            return status, header
        viewers_status, viewers = self.answers.get(("GET", "accounts", f"{child}/viewers"), (200, []))
        if viewers_status == 403:
            return 200, {"header": header, "viewers": None, "viewers_refused": viewers["detail"]}
        if viewers_status != 200:
            return viewers_status, viewers
        return 200, {"header": header, "viewers": viewers, "viewers_refused": None}

    def _analytics_overview(self, child: str) -> tuple[int, Any]:
        """Analytics' overview as the graph, cloud and scales answers given make it (a refused part is left
        out, with the reason; any other failure fails the whole read, as analytics does)."""
        body: dict[str, Any] = {}
        for part, path in (
            ("graph", "contact-graph"),
            ("cloud", "keyword-cloud"),
            ("scales", "safety-scales"),
        ):
            status, answer = self.answers.get(
                ("GET", "analytics", f"{child}/{path}"), (404, {"detail": "none"})
            )
            if status == 403:
                body[part], body[f"{part}_refused"] = None, answer["detail"]
            elif status != 200:
                return status, answer
            else:
                body[part], body[f"{part}_refused"] = answer, None
        return 200, body


@pytest.fixture
def backends() -> Backends:
    fake = Backends()
    fake.on("GET", "accounts", f"/children/{CHILD}", header())
    fake.on("GET", "accounts", f"/children/{CHILD}/viewers", [])
    fake.on(
        "GET",
        "chronology",
        f"/children/{CHILD}/chronology",
        {"child_id": CHILD, "total": 0, "entries": [], "next_cursor": None},
    )
    fake.on(
        "GET",
        "analytics",
        f"/children/{CHILD}/contact-graph",
        {"child_id": CHILD, "granularity": "week", "total": 0, "series": []},
    )
    fake.on(
        "GET",
        "analytics",
        f"/children/{CHILD}/keyword-cloud",
        {"child_id": CHILD, "view": "full", "documents": 0, "terms": []},
    )
    fake.on(
        "GET",
        "analytics",
        f"/children/{CHILD}/safety-scales",
        {"child_id": CHILD, "family_view": False, "lines": []},
    )
    return fake


@pytest.fixture
def client(backends: Backends) -> Iterator[TestClient]:
    settings = WebSettings(
        accounts_url="http://accounts",
        chronology_url="http://chronology",
        analytics_url="http://analytics",
        forum_url="http://forum",
        auth_jwks=json.dumps(IDS.issuer.jwks()),
        cookie_secure=False,
        demo_password="demo-password-1",
        demo_users=[{"username": "sam.okafor", "name": "Sam Okafor", "who": "Social worker"}],
    )
    app = create_app(settings, transport=httpx.MockTransport(backends.handle))
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as test_client:
        yield test_client


def sign_in_as(client: TestClient, subject: str, kind: PrincipalKind = "practitioner") -> str:
    token = IDS.token(subject, kind=kind)
    client.cookies.set(security.SESSION_COOKIE, token)
    return token


def csrf_of(client: TestClient) -> str:
    return security.csrf_token(client.cookies[security.SESSION_COOKIE])


def test_a_page_without_a_sign_in_sends_the_browser_to_sign_in_and_back(client: TestClient) -> None:
    response = client.get(f"/children/{CHILD}?agency=school")
    assert response.status_code == 303
    assert response.headers["location"] == f"/sign-in?next=%2Fchildren%2F{CHILD}%3Fagency%3Dschool"


def test_the_sign_in_page_lists_the_demo_users_only_when_a_demo_password_is_set(client: TestClient) -> None:
    page = client.get("/sign-in")
    assert page.status_code == 200
    assert "Demo users for the local stack" in page.text and "demo-password-1" in page.text
    assert "sam.okafor" in page.text
    assert page.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


def test_signing_in_keeps_the_token_in_an_httponly_strict_cookie(
    client: TestClient, backends: Backends
) -> None:
    token = IDS.token("p-sam")
    backends.on("POST", "accounts", "/auth/token", {"access_token": token, "expires_in": 3600})
    form = client.get("/sign-in")
    nonce = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert nonce is not None
    response = client.post(
        "/sign-in",
        data={"username": "sam.okafor", "password": "pw", "csrf_token": nonce.group(1), "next": "/find"},
    )
    assert response.status_code == 303 and response.headers["location"] == "/find"
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("sg_session="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and token in cookie
    assert json.loads(backends.seen[-1].content) == {"username": "sam.okafor", "password": "pw"}


def test_a_sign_in_without_the_forms_token_is_refused(client: TestClient, backends: Backends) -> None:
    response = client.post("/sign-in", data={"username": "sam.okafor", "password": "pw", "csrf_token": "x"})
    assert response.status_code == 400
    assert not [r for r in backends.seen if r.url.path == "/auth/token"]


def test_a_wrong_password_says_so_plainly(client: TestClient, backends: Backends) -> None:
    backends.on("POST", "accounts", "/auth/token", {"detail": "wrong user name or password"}, status=401)
    form = client.get("/sign-in")
    nonce = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert nonce is not None
    response = client.post(
        "/sign-in", data={"username": "sam.okafor", "password": "bad", "csrf_token": nonce.group(1)}
    )
    assert response.status_code == 401
    assert "The user name or password is not right" in response.text


def test_sign_in_never_redirects_off_the_site(client: TestClient) -> None:
    assert security.safe_next("https://evil.example/") == "/children"
    assert security.safe_next("//evil.example/") == "/children"
    assert security.safe_next("/\\evil.example") == "/children"
    assert security.safe_next("/children/1?x=1") == "/children/1?x=1"


def test_every_backend_call_carries_the_viewers_own_token(client: TestClient, backends: Backends) -> None:
    token = sign_in_as(client, "p-sam")
    assert client.get(f"/children/{CHILD}").status_code == 200
    calls = [r for r in backends.seen if r.url.path != "/healthz"]
    assert {r.url.host for r in calls} == {"accounts", "chronology", "analytics", "forum"}
    assert all(r.headers["authorization"] == f"Bearer {token}" for r in calls)


def test_a_post_without_a_valid_csrf_token_changes_nothing(client: TestClient, backends: Backends) -> None:
    sign_in_as(client, "p-hana")
    response = client.post(f"/children/{CHILD}/join", data={"reason": "health visitor", "csrf_token": "nope"})
    assert response.status_code == 400
    assert not [r for r in backends.seen if r.method == "POST"]


def test_a_post_from_another_site_is_refused_even_with_a_token(
    client: TestClient, backends: Backends
) -> None:
    sign_in_as(client, "p-hana")
    response = client.post(
        f"/children/{CHILD}/join",
        data={"reason": "health visitor", "csrf_token": csrf_of(client)},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 400
    assert not [r for r in backends.seen if r.method == "POST"]


def test_asking_to_join_sends_the_reason_to_accounts(client: TestClient, backends: Backends) -> None:
    backends.on(
        "POST",
        "accounts",
        f"/children/{CHILD}/join-requests",
        {
            "request_id": "r1",
            "person_id": "p-hana",
            "name": "Hana",
            "reason": "I am the health visitor",
            "requested_at": "2026-03-02T10:00:00Z",
        },
        status=201,
    )
    sign_in_as(client, "p-hana")
    response = client.post(
        f"/children/{CHILD}/join",
        data={"reason": " I am the health visitor ", "csrf_token": csrf_of(client)},
        headers={"Origin": "http://testserver"},
    )
    assert response.status_code == 303 and response.headers["location"] == "/children?done=asked"
    assert json.loads(backends.seen[-1].content) == {"reason": "I am the health visitor"}


def test_a_refusal_by_the_backend_is_shown_with_its_reason(client: TestClient, backends: Backends) -> None:
    backends.on(
        "GET",
        "accounts",
        f"/children/{CHILD}",
        {"detail": "no legitimate relationship with this child: ask to join the team"},
        status=403,
    )
    sign_in_as(client, "p-stranger")
    response = client.get(f"/children/{CHILD}")
    assert response.status_code == 403
    assert "no legitimate relationship with this child" in response.text
    assert "Amy" not in response.text


def test_an_expired_sign_in_at_a_backend_sends_the_person_to_sign_in_again(
    client: TestClient, backends: Backends
) -> None:
    backends.on("GET", "accounts", f"/children/{CHILD}", {"detail": "the token has expired"}, status=401)
    sign_in_as(client, "p-sam")
    response = client.get(f"/children/{CHILD}")
    assert response.status_code == 303
    assert (
        response.headers["location"].startswith("/sign-in?next=")
        and "done=expired" in response.headers["location"]
    )


def test_what_people_typed_is_shown_as_text_not_markup(client: TestClient, backends: Backends) -> None:
    script = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    backends.on(
        "GET",
        "chronology",
        f"/children/{CHILD}/chronology",
        {"child_id": CHILD, "total": 1, "entries": [entry("e1", script)], "next_cursor": None},
    )
    backends.on("GET", "accounts", f"/children/{CHILD}", header(given_name=script))
    sign_in_as(client, "p-sam")
    page = client.get(f"/children/{CHILD}").text
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page


def test_the_family_view_says_so_and_uses_plain_words(client: TestClient, backends: Backends) -> None:
    backends.on("GET", "accounts", f"/children/{CHILD}", header(view="family", relationship="family"))
    backends.on(
        "GET",
        "chronology",
        f"/children/{CHILD}/chronology",
        {"child_id": CHILD, "total": 1, "entries": [entry("e1", "Visited at home.")], "next_cursor": None},
    )
    sign_in_as(client, "p-kerry", kind="family")
    page = client.get(f"/children/{CHILD}").text
    assert "Family view." in page and "Who is helping Amy" in page and "What has happened" in page
    assert "A worry for Amy" in page
    assert "Mark as significant" not in page and "Find a child" not in page


def test_a_shielded_childs_address_is_not_on_the_page(client: TestClient, backends: Backends) -> None:
    hidden = header(
        relationship="member",
        address=None,
        postcode=None,
        school=None,
        gp=None,
        location_hidden=True,
        shielded=True,
    )
    backends.on("GET", "accounts", f"/children/{CHILD}", hidden)
    sign_in_as(client, "p-tess")
    page = client.get(f"/children/{CHILD}").text
    assert "This child is shielded" in page and "Elm Road" not in page


def test_the_timeline_marks_significance_corrections_and_likely_duplicates(
    client: TestClient, backends: Backends
) -> None:
    entries = [
        entry("e1", "First account of the visit.", superseded_by="e2"),
        entry("e2", "Corrected account of the visit.", supersedes="e1", significant=True),
        entry("e3", "School saw the same incident.", contact_type="police_callout", duplicate_group="g"),
        entry("e4", "Police attended.", agency="police", contact_type="police_callout", duplicate_group="g"),
    ]
    backends.on(
        "GET",
        "chronology",
        f"/children/{CHILD}/chronology",
        {"child_id": CHILD, "total": 4, "entries": entries, "next_cursor": None},
    )
    sign_in_as(client, "p-sam")
    page = client.get(f"/children/{CHILD}").text
    assert (
        '<del><span class="visually-hidden">Replaced text: </span>First account of the visit.</del>' in page
    )
    assert 'href="#entry-e2">See the correction' in page
    assert "This corrects" in page and "Significant event" in page
    assert "Likely the same event</strong>, recorded by School and Police" in page
    assert page.count("Mark as significant") >= 1


def test_the_filters_are_passed_to_the_chronology(client: TestClient, backends: Backends) -> None:
    sign_in_as(client, "p-sam")
    client.get(
        f"/children/{CHILD}?date_from=2026-01-01&date_to=2026-02-01&agency=police"
        "&contact_type=police_callout&significant_only=1&kind=contact"
    )
    call = next(r for r in backends.seen if r.url.host == "chronology")
    params = dict(call.url.params)
    assert params == {
        "date_from": "2026-01-01",
        "date_to": "2026-02-01",
        "agency": "police",
        "contact_type": "police_callout",
        "significant_only": "true",
        "kind": "contact",
        "limit": "100",
    }


def test_marking_an_entry_significant_calls_the_chronology_as_the_lead(
    client: TestClient, backends: Backends
) -> None:
    backends.on(
        "PUT",
        "chronology",
        f"/children/{CHILD}/chronology/e1/significance",
        entry("e1", "Visit", significant=True),
    )
    token = sign_in_as(client, "p-sam")
    response = client.post(
        f"/children/{CHILD}/entries/e1/significance",
        data={"significant": "true", "reason": "turning point", "csrf_token": csrf_of(client)},
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/children/{CHILD}?done=marked#entry-e1"
    put = backends.seen[-1]
    assert put.headers["authorization"] == f"Bearer {token}"
    assert json.loads(put.content) == {"significant": True, "reason": "turning point"}


def test_the_csv_export_is_the_chronologys_own_for_this_person(
    client: TestClient, backends: Backends
) -> None:
    backends.on(
        "GET", "chronology", f"/children/{CHILD}/chronology/export.csv", "date,summary\n2026-03-02,Visit\n"
    )
    sign_in_as(client, "p-kerry", kind="family")
    response = client.get(f"/children/{CHILD}/chronology.csv")
    assert response.status_code == 200
    assert response.text == "date,summary\n2026-03-02,Visit\n"
    assert response.headers["content-disposition"] == f'attachment; filename="chronology-{CHILD}.csv"'


def test_ids_that_could_change_a_backend_path_are_refused(client: TestClient, backends: Backends) -> None:
    sign_in_as(client, "p-sam")
    assert client.get("/children/..%2Faudit").status_code == 404
    assert not [r for r in backends.seen if r.url.host == "accounts" and "audit" in r.url.path]


def test_readiness_needs_every_backend(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    checks = {"accounts": True, "chronology": True, "analytics": True, "forum": True}
    assert response.json()["checks"] == checks
    assert "web_http_requests_total" in client.get("/metrics").text


def scales(*lines: tuple[str, bool, list[int]]) -> dict[str, Any]:
    return {
        "child_id": CHILD,
        "family_view": False,
        "lines": [
            {
                "person_id": f"p-{i}",
                "name": name,
                "kind": "family" if family else "practitioner",
                "family": family,
                "points": [
                    {"at": f"2026-03-0{d + 1}T09:00:00Z", "score": s, "comment": f"said {s}"}
                    for d, s in enumerate(scores)
                ],
            }
            for i, (name, family, scores) in enumerate(lines)
        ],
    }


def test_the_safety_scales_are_a_chart_with_a_key_and_a_table_names_as_text(
    client: TestClient, backends: Backends
) -> None:
    odd = "Kerry <b>Example</b>"
    backends.on(
        "GET",
        "analytics",
        f"/children/{CHILD}/safety-scales",
        scales((odd, True, [5, 7]), ("Sam Okafor", False, [4])),
    )
    sign_in_as(client, "p-sam")
    page = client.get(f"/children/{CHILD}").text
    section = page[page.index('<section id="scales"') : page.index("</section>", page.index('id="scales"'))]
    assert section.count('class="scale-line"') == 2 and "stroke-dasharray" in section  # the family's dashed
    assert "<b>Example</b>" not in section and "Kerry &lt;b&gt;Example&lt;/b&gt;" in section
    assert "(latest 7)" in section and "(latest 4)" in section
    assert section.count('<tr><th scope="row">') == 3 and "said 7" in section  # every scale in the table


def test_the_page_is_served_when_analytics_cannot_be(client: TestClient, backends: Backends) -> None:
    backends.on("GET", "analytics", f"/children/{CHILD}/safety-scales", {"detail": "down"}, status=503)
    sign_in_as(client, "p-sam")
    answer = client.get(f"/children/{CHILD}")
    assert answer.status_code == 200
    for part in ("The graph", "The key words", "The safety scales"):  # analytics' one read failed
        assert f"{part} cannot be shown right now: down." in answer.text
    assert 'id="chronology"' in answer.text and "The chronology cannot be shown" not in answer.text


def test_a_refused_analytics_part_is_shown_as_refused_and_the_others_are_shown(
    client: TestClient, backends: Backends
) -> None:
    refused = {"detail": "not on the team"}
    backends.on("GET", "analytics", f"/children/{CHILD}/keyword-cloud", refused, status=403)
    sign_in_as(client, "p-sam")
    answer = client.get(f"/children/{CHILD}")
    assert answer.status_code == 200
    assert "The key words cannot be shown right now: not on the team." in answer.text
    assert "The graph cannot be shown" not in answer.text
    assert "The safety scales cannot be shown" not in answer.text
    [asked] = [r for r in backends.seen if r.url.host == "analytics"]  # one read, not three
    assert asked.url.path == f"/children/{CHILD}/overview"


def test_a_shielded_childs_withheld_viewers_and_scale_lines_read_as_withheld_not_as_gaps(
    client: TestClient, backends: Backends
) -> None:
    family = header(view="family", relationship="family", location_hidden=True, address=None)
    backends.on("GET", "accounts", f"/children/{CHILD}", family)
    viewer = {
        "person_id": None,
        "name": "Name withheld",
        "kind": "practitioner",
        "agency": "school",
        "role": "teacher",
        "last_viewed": "2026-03-02T09:15:00Z",
        "times": 2,
        "break_glass": False,
        "details_withheld": True,
    }
    backends.on("GET", "accounts", f"/children/{CHILD}/viewers", [viewer])
    withheld = scales(
        ("Name withheld (social worker)", False, [4, 5]), ("Name withheld (teacher)", False, [6])
    )
    backends.on("GET", "analytics", f"/children/{CHILD}/safety-scales", withheld)
    sign_in_as(client, "p-kerry", kind="family")

    page = client.get(f"/children/{CHILD}").text

    viewers = page[page.index('<section id="viewers"') : page.index("</section>", page.index('id="viewers"'))]
    assert "<strong>Name withheld</strong>" in viewers and "teacher" in viewers
    assert "Name withheld to keep Amy safe" in viewers
    section = page[page.index('<section id="scales"') : page.index("</section>", page.index('id="scales"'))]
    assert section.count('class="scale-line"') == 2  # two people, two lines, though neither is named
    assert "Name withheld (social worker) <span" in section and "Name withheld (teacher) <span" in section
