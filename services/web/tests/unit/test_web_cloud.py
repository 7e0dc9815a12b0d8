"""The keyword cloud's words as the page shows them."""

from __future__ import annotations

from shared.charts.cloud import SIZES
from web.clients import Unavailable
from web.cloud import cloud_view, sized
from web.models import CloudTerm, KeywordCloud


def cloud(*terms: tuple[str, int]) -> KeywordCloud:
    return KeywordCloud(
        child_id="c1", view="full", documents=40, terms=[CloudTerm(term=t, documents=n) for t, n in terms]
    )


def test_the_most_frequent_word_is_the_biggest_and_a_word_seen_once_the_smallest() -> None:
    words = sized(cloud(("mould reported", 12), ("home visit", 4), ("hungry", 1)), "c1")
    assert [(w.term, w.size) for w in words] == [("mould reported", SIZES), ("home visit", 3), ("hungry", 1)]


def test_a_word_links_to_its_records_on_the_same_page() -> None:
    [word] = sized(cloud(("missed appointment", 2)), "c1")
    assert word.href == "/children/c1?keyword=missed+appointment#cloud"


def test_a_failing_cloud_shows_in_its_section_only() -> None:
    section = cloud_view("c1", Unavailable("analytics", 503, "analytics is not answering"), None)
    assert section.words == [] and section.error is not None
