"""The scale history's use cases: keep each recorded scale; read a child's history as the reader may see it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from analytics.scales.models import (
    HIDDEN_NAME,
    HIDDEN_PERSON,
    SafetyScales,
    ScaleLine,
    ScalePoint,
    scale_document,
)
from analytics.scales.store import ScaleStore
from shared.contracts.forum import ForumEvent, ScaleRecorded
from shared.events import Envelope


async def record_scales(*, store: ScaleStore, events: Sequence[Envelope[ForumEvent]]) -> int:
    """Keep each safety scale the forum recorded, once; returns how many were new."""
    docs = [scale_document(e.data) for e in events if isinstance(e.data, ScaleRecorded)]
    if not docs:
        return 0
    return (await store.add_scales(docs)).inserted


async def safety_scales(
    *, store: ScaleStore, child_id: str, family_view: bool, see_sensitive_providers: bool
) -> SafetyScales:
    """One line per participant, oldest scale first. The family's view holds the scales recorded in
    family-audience threads only, as the forum's board shows them; a confidential-service practitioner is,
    for a reader who may not see such providers, one neutral line with no name, role or agency (every such
    practitioner on the same line, as the forum shows them under one label, so no line tells them apart)."""
    lines: dict[str, dict[str, Any]] = {}
    for doc in await store.scales(child_id=child_id, family_view=family_view):
        hidden = doc["confidential"] and not see_sensitive_providers
        person = HIDDEN_PERSON if hidden else doc["person_id"]
        line = lines.setdefault(
            person,
            {
                "person_id": person,
                "name": HIDDEN_NAME if hidden else doc["name"],
                "kind": doc["kind"],
                "role": None if hidden else doc.get("role"),
                "agency": None if hidden else doc.get("agency"),
                "family": doc["kind"] == "family",
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
