"""Every service's OpenAPI and AsyncAPI documents, committed under docs/api/ for agencies and integrators.

`python tests/test_api_documents.py` rewrites them; this test fails when a committed document is stale.
The apps are only built, not started: no server is needed.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from shared.contracts.catalog import envelopes
from shared.topics import DEFAULT

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "api"
SERVICES = sorted(
    p.parent.name for p in (ROOT / "services").glob("*/src") if (p / p.parent.name / "app.py").exists()
)


def documents(service: str) -> dict[str, dict[str, Any]]:
    app = importlib.import_module(f"{service}.app").create_app()
    out = {f"{service}.openapi.json": app.openapi()}
    asyncapi = next((r for r in app.routes if getattr(r, "path", "") == "/asyncapi.json"), None)
    if asyncapi is not None:
        out[f"{service}.asyncapi.json"] = app.state.asyncapi_document()
    return out


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, sort_keys=True, default=str) + "\n"


@pytest.mark.parametrize("service", SERVICES)
def test_committed_api_documents_match_the_code(service: str) -> None:
    for name, doc in documents(service).items():
        path = DOCS / name
        assert path.exists(), f"{path} is missing: run `python tests/test_api_documents.py`"
        assert path.read_text() == render(doc), f"{path} is stale: run `python tests/test_api_documents.py`"


def test_every_consumed_agency_topic_documents_the_contact_contract() -> None:
    doc = documents("chronology")["chronology.asyncapi.json"]
    channels = {c["address"] for c in doc["channels"].values()}
    assert "contacts.school" in channels
    assert "ContactRecorded" in doc["components"]["schemas"]


def _payloads(doc: dict[str, Any]) -> dict[str, set[str]]:
    """Each channel's address → the names of the schemas its messages carry."""
    found: dict[str, set[str]] = {}
    for channel in doc["channels"].values():
        for ref in channel["messages"].values():
            message = doc["components"]["messages"][unquote(ref["$ref"]).rsplit("/", 1)[-1]]
            found.setdefault(channel["address"], set()).add(message["payload"]["$ref"].rsplit("/", 1)[-1])
    return found


def _sends(doc: dict[str, Any]) -> set[str]:
    channels = doc["channels"]
    return {
        channels[unquote(op["channel"]["$ref"]).rsplit("/", 1)[-1]]["address"]
        for op in doc["operations"].values()
        if op["action"] == "send"
    }


def test_every_topic_a_service_reads_is_documented_with_its_contract_and_by_the_service_that_writes_it() -> (
    None
):
    published: set[str] = set()
    for service in SERVICES:
        doc = documents(service).get(f"{service}.asyncapi.json")
        if doc is None:
            continue
        for address, schemas in _payloads(doc).items():
            assert schemas == {envelopes(DEFAULT)[address].__name__}, (
                f"{service}: {address} carries {schemas}"
            )
        published |= _sends(doc)
    consumed = {
        a for s in SERVICES for a in _payloads(documents(s).get(f"{s}.asyncapi.json", {"channels": {}}))
    }
    agencies = set(DEFAULT.contacts)  # written by the agencies' own systems, not by a service
    assert consumed - agencies <= published, (
        f"read but documented by no writer: {consumed - agencies - published}"
    )
    assert {DEFAULT.forum_events, DEFAULT.accounts_events, DEFAULT.chronology_events} <= published


if __name__ == "__main__":
    import os

    from devstack import service_users

    for variable, value in service_users.local_env().items():  # the apps are built, never connected
        os.environ.setdefault(variable, value)
    DOCS.mkdir(parents=True, exist_ok=True)
    for service in SERVICES:
        for name, doc in documents(service).items():
            (DOCS / name).write_text(render(doc))
            print(DOCS / name, file=sys.stderr)
