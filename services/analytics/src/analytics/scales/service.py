"""The scale history's use cases: keep each recorded scale; read a child's history as the reader may see it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from analytics.scales.models import (
    HIDDEN_NAME,
    HIDDEN_PERSON,
    WITHHELD_PERSON,
    SafetyScales,
    ScaleLine,
    ScalePoint,
    scale_document,
)
from analytics.scales.store import ScaleStore
from shared.contracts.forum import ForumEvent, ScaleRecorded
from shared.events import Envelope
from shared.policy import WITHHELD_NAME


async def record_scales(*, store: ScaleStore, events: Sequence[Envelope[ForumEvent]]) -> int:
    """Keep each safety scale the forum recorded, once; returns how many were new."""
    docs = [scale_document(e.data) for e in events if isinstance(e.data, ScaleRecorded)]
    if not docs:
        return 0
    return (await store.add_scales(docs)).inserted


async def safety_scales(
    *,
    store: ScaleStore,
    child_id: str,
    family_view: bool,
    see_sensitive_providers: bool,
    see_location: bool,
    reader_id: str,
) -> SafetyScales:
    """One line per participant, oldest scale first. The family's view holds the scales recorded in
    family-audience threads only, as the forum's board shows them; a confidential-service practitioner is,
    for a reader who may not see such providers, one neutral line with no name, role or agency (every such
    practitioner on the same line, as the forum shows them under one label, so no line tells them apart).

    For a shielded child, a reader who may not see where the child is (`see_location` False) sees each other
    practitioner's line by role and agency, as the team directory shows them, not by name or id. Each such
    line keeps its own id, `withheld-<n>`, n counting the withheld people in the order of their first scale
    in what this reader sees: the lines stay apart and keep their ids as the history grows, and, unlike a
    hash of the person's id, the id cannot be matched to someone whose id the reader learnt elsewhere."""
    lines: dict[str, dict[str, Any]] = {}
    withheld: dict[str, str] = {}
    for doc in await store.scales(child_id=child_id, family_view=family_view):
        hidden = doc["confidential"] and not see_sensitive_providers
        unnamed = not (hidden or see_location or doc["kind"] == "family" or doc["person_id"] == reader_id)
        if hidden:
            person = HIDDEN_PERSON
        elif unnamed:
            person = withheld.setdefault(doc["person_id"], f"{WITHHELD_PERSON}-{len(withheld) + 1}")
        else:
            person = doc["person_id"]
        line = lines.setdefault(
            person,
            {
                "person_id": person,
                "name": _name(doc, hidden=hidden, unnamed=unnamed),
                "kind": doc["kind"],
                "role": None if hidden else doc.get("role"),
                "agency": None if hidden else doc.get("agency"),
                "family": doc["kind"] == "family",
                "details_withheld": unnamed,
                "points": [],
            },
        )
        line["points"].append(
            ScalePoint(
                at=doc["at"], score=doc["score"], comment=doc.get("comment", ""), audience=doc["audience"]
            )
        )
    ordered = sorted(lines.values(), key=lambda ln: (not ln["family"], ln["points"][0].at, ln["person_id"]))
    return SafetyScales(
        child_id=child_id, family_view=family_view, lines=[ScaleLine(**line) for line in ordered]
    )


def _name(doc: dict[str, Any], *, hidden: bool, unnamed: bool) -> str:
    """The line's label in the chart's key: a withheld practitioner's says their role, to tell lines apart."""
    if hidden:
        return HIDDEN_NAME
    if unnamed:
        return f"{WITHHELD_NAME} ({doc['role']})" if doc.get("role") else WITHHELD_NAME
    return str(doc["name"])
