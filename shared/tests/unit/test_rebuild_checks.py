"""The rebuild's checksums and progress, without servers."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from shared.readmodel import ReadModel, collection_name, generation_of
from shared.rebuild.checksum import MODULUS, Fingerprint, differences, digest, summary
from shared.rebuild.progress import Progress


def test_a_documents_digest_ignores_key_order_and_the_fields_that_legitimately_differ() -> None:
    a = {"_id": "x", "terms": ["food"], "built_at": datetime(2026, 1, 1, tzinfo=UTC)}
    b = {"built_at": datetime(2026, 2, 2, tzinfo=UTC), "terms": ["food"], "_id": "x"}
    assert digest(a, {"built_at"}) == digest(b, {"built_at"})
    assert digest(a) != digest(b)
    assert digest(a, {"built_at"}) != digest({**a, "terms": ["coat"]}, {"built_at"})


def test_a_childs_checksum_does_not_depend_on_the_order_documents_are_read_in() -> None:
    docs = [{"_id": str(i), "child_id": "c", "n": i} for i in range(5)]
    forward = sum(digest(d) for d in docs) % MODULUS
    backward = sum(digest(d) for d in reversed(docs)) % MODULUS
    assert forward == backward


def test_differences_name_the_collection_and_each_child_that_differs() -> None:
    live = Fingerprint(counts={"entries": 3}, children={"entries": {"a": (2, 10), "b": (1, 20)}})
    same = Fingerprint(counts={"entries": 3}, children={"entries": {"a": (2, 10), "b": (1, 20)}})
    rebuilt = Fingerprint(counts={"entries": 2}, children={"entries": {"a": (2, 11)}})
    assert differences(live, same) == []
    found = differences(live, rebuilt)
    assert found[0] == "entries: 3 documents served, 2 rebuilt"
    assert any("child a:" in line for line in found) and any("child b:" in line for line in found)
    model: ReadModel[None] = ReadModel("m", {"entries": []}, lambda view, previous: None, lambda s: [])
    assert "served 3 documents" in summary(model, live, same)[0]


def test_generations_have_names_of_their_own_and_generation_zero_keeps_the_plain_one() -> None:
    assert collection_name("entries", 0) == "entries"
    assert collection_name("entries", 3) == "entries_g3"
    assert generation_of("entries_g3", "entries") == 3
    assert generation_of("entries", "entries") == 0
    assert generation_of("entries_gx", "entries") is None
    assert generation_of("keyword_documents", "entries") is None


def test_progress_off_a_terminal_is_plain_lines_with_the_rate_and_the_time_left() -> None:
    out = io.StringIO()
    progress = Progress(1000, label="replaying", out=out)
    progress.advance(250)
    progress.close()
    line = out.getvalue().splitlines()[-1]
    assert line.startswith("replaying: 250/1,000 events ( 25%)")
    assert "events/s" in line and "ETA" in line and "[" not in line
