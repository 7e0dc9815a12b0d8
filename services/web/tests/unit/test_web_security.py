"""CSRF tokens, origin checks and the timeline's arrangement: web's own rules, without servers."""

from __future__ import annotations

from datetime import date

from starlette.requests import Request

from web import security
from web.models import ChronologyEntry
from web.timeline import arrange, impact_of


def request_with(headers: dict[str, str]) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    return Request({"type": "http", "method": "POST", "path": "/", "headers": raw, "query_string": b""})


def test_the_csrf_token_is_bound_to_the_session_token() -> None:
    token = security.csrf_token("session-a")
    assert security.csrf_valid("session-a", token)
    assert not security.csrf_valid("session-b", token)
    assert not security.csrf_valid("session-a", "")
    assert not security.csrf_valid("session-a", None)
    assert "session-a" not in token


def test_the_sign_in_nonce_must_be_repeated_exactly() -> None:
    nonce = security.new_signin_nonce()
    assert security.signin_nonce_valid(nonce, nonce)
    assert not security.signin_nonce_valid(nonce, nonce + "x")
    assert not security.signin_nonce_valid(None, nonce)
    assert not security.signin_nonce_valid("", "")


def test_a_post_is_same_origin_only_when_origin_or_referer_names_this_host() -> None:
    assert security.same_origin(request_with({"host": "web:8000", "origin": "http://web:8000"}))
    assert security.same_origin(request_with({"host": "web:8000", "referer": "http://web:8000/find"}))
    assert not security.same_origin(request_with({"host": "web:8000", "origin": "https://evil.example"}))
    assert not security.same_origin(request_with({"host": "web:8000", "origin": "null"}))
    assert security.same_origin(request_with({"host": "web:8000"}))  # not a browser: the CSRF token decides


def entry(entry_id: str, day: str, **changes: object) -> ChronologyEntry:
    data: dict[str, object] = {
        "id": entry_id,
        "agency": "school",
        "occurred_at": f"{day}T09:00:00Z",
        "day": day,
        "contact_type": "home_visit",
        "summary": entry_id,
        "impact": "neutral",
    }
    data.update(changes)
    return ChronologyEntry.model_validate(data)


def test_the_timeline_groups_entries_by_day_and_keeps_likely_duplicates_together() -> None:
    days = arrange(
        [
            entry("a", "2026-03-01"),
            entry("b", "2026-03-02", duplicate_group="g"),
            entry("c", "2026-03-02"),
            entry("d", "2026-03-02", agency="police", duplicate_group="g"),
        ]
    )
    assert [d.day for d in days] == [date(2026, 3, 1), date(2026, 3, 2)]
    assert days[0].label == "Sunday 1 March 2026"
    second = days[1].items
    assert [[e.id for e in item.entries] for item in second] == [["b", "d"], ["c"]]
    assert second[0].is_duplicate_group and not second[1].is_duplicate_group


def test_impact_is_in_words_with_an_icon_and_plainer_words_for_the_family() -> None:
    assert impact_of("negative", family=False, child_name="Amy").text == "Negative impact"
    assert impact_of("negative", family=True, child_name="Amy").text == "A worry for Amy"
    assert impact_of("positive", family=True, child_name="Amy").icon == "▲"
