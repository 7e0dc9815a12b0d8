"""'My children' with what changed since the person last looked (from notifications), and without it when
notifications cannot answer."""

# The fixtures are test_web_pages's, found by pytest by name; ruff reads them as redefinitions.
# ruff: noqa: F811

from __future__ import annotations

from fastapi.testclient import TestClient
from test_web_pages import CHILD, Backends, backends, client, header, sign_in_as  # noqa: F401

NOTIFICATIONS = "127.0.0.1"  # the default notifications_url's host


def test_my_children_shows_what_changed_since_the_last_look(client: TestClient, backends: Backends) -> None:
    backends.on("GET", "accounts", "/me/children", [header()])
    changes = {
        "child_id": CHILD,
        "last_looked_at": "2026-03-02T09:15:00Z",
        "new": {"forum_worry": 2, "significant_contact": 1},
        "total": 3,
        "more": False,
    }
    backends.on("GET", NOTIFICATIONS, "/changes", {"children": [changes]})
    sign_in_as(client, "p-sam")

    page = client.get("/children")

    assert page.status_code == 200
    assert "Since you last looked, 2 Mar 2026 at 09:15" in page.text
    assert "<strong>2</strong> worries in the forum" in page.text
    assert "<strong>1</strong> significant event<" in page.text
    (asked,) = [r for r in backends.seen if r.url.path == "/changes"]
    assert asked.url.params.get_list("child_id") == [CHILD]


def test_my_children_says_nothing_new_or_never_opened(client: TestClient, backends: Backends) -> None:
    other = "9434765870"
    backends.on("GET", "accounts", "/me/children", [header(), header(child_id=other)])
    quiet = {
        "child_id": CHILD,
        "last_looked_at": "2026-03-02T09:15:00Z",
        "new": {},
        "total": 0,
        "more": False,
    }
    never = {
        "child_id": other,
        "last_looked_at": None,
        "new": {"record_opened": 1},
        "total": 1,
        "more": False,
    }
    backends.on("GET", NOTIFICATIONS, "/changes", {"children": [quiet, never]})
    sign_in_as(client, "p-sam")

    page = client.get("/children")

    assert "Nothing new." in page.text
    assert "You have not opened this record yet." in page.text and "1</strong> new viewer<" in page.text


def test_my_children_still_lists_the_children_when_notifications_fail(
    client: TestClient, backends: Backends
) -> None:
    backends.on("GET", "accounts", "/me/children", [header()])
    backends.on("GET", NOTIFICATIONS, "/changes", {"detail": "down"}, status=503)
    sign_in_as(client, "p-sam")

    page = client.get("/children")

    assert page.status_code == 200 and "Since you last looked" not in page.text
    assert f'href="/children/{CHILD}"' in page.text
