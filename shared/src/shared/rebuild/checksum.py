"""Proof that two generations of a read model hold the same thing: counts, and a checksum per child.

A document's digest is SHA-256 over its canonical JSON (keys sorted) less the fields the model says
legitimately differ between two builds from the same events (`ReadModel.ignore`, e.g. when a cloud was
built). A child's checksum is the sum of its documents' digests modulo 2^128: independent of the order the
documents were written or are read in, and changed by any document added, lost or altered.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.readmodel import ModelView, ReadModel

MODULUS = 1 << 128
CHILD = "child_id"
SHOWN = 10  # differing children printed by name; the rest counted


@dataclass
class Fingerprint:
    """One generation of a model: per collection, its document count and each child's (count, checksum)."""

    counts: dict[str, int] = field(default_factory=dict)
    children: dict[str, dict[str, tuple[int, int]]] = field(default_factory=dict)

    def combined(self, collection: str) -> str:
        """One checksum over every child's, to print."""
        total = sum(c for _, c in self.children.get(collection, {}).values()) % MODULUS
        return f"{total:032x}"


def digest(doc: Mapping[str, Any], ignore: Iterable[str] = ()) -> int:
    kept = {k: v for k, v in doc.items() if k not in set(ignore)}
    text = json.dumps(kept, sort_keys=True, default=str, separators=(",", ":"), ensure_ascii=False)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:16], "big")


async def fingerprint(model: ReadModel[Any], view: ModelView) -> Fingerprint:
    out = Fingerprint()
    for base in model.collections:
        ignore = model.ignore.get(base, frozenset())
        per_child: dict[str, tuple[int, int]] = {}
        count = 0
        async for doc in view[base].find({}, batch_size=5000):
            count += 1
            child = str(doc.get(CHILD, ""))
            n, total = per_child.get(child, (0, 0))
            per_child[child] = (n + 1, (total + digest(doc, ignore)) % MODULUS)
        out.counts[base] = count
        out.children[base] = per_child
    return out


async def fingerprints(model: ReadModel[Any], a: ModelView, b: ModelView) -> tuple[Fingerprint, Fingerprint]:
    """Both generations at once, each on its own connection."""
    first, second = await asyncio.gather(fingerprint(model, a), fingerprint(model, b))
    return first, second


def differences(live: Fingerprint, rebuilt: Fingerprint) -> list[str]:
    """What differs, one line each: a collection's count, then each child whose checksum differs."""
    lines: list[str] = []
    for base in sorted(set(live.counts) | set(rebuilt.counts)):
        a, b = live.counts.get(base, 0), rebuilt.counts.get(base, 0)
        if a != b:
            lines.append(f"{base}: {a:,} documents served, {b:,} rebuilt")
        la, lb = live.children.get(base, {}), rebuilt.children.get(base, {})
        differing = sorted(c for c in set(la) | set(lb) if la.get(c) != lb.get(c))
        for child in differing[:SHOWN]:
            (na, ca), (nb, cb) = la.get(child, (0, 0)), lb.get(child, (0, 0))
            lines.append(f"{base}: child {child}: served {na} documents {ca:032x}, rebuilt {nb} {cb:032x}")
        if len(differing) > SHOWN:
            lines.append(f"{base}: and {len(differing) - SHOWN:,} more children differ")
    return lines


def summary(model: ReadModel[Any], live: Fingerprint, rebuilt: Fingerprint) -> list[str]:
    """The counts and combined checksums of both generations, one line per collection."""
    lines = []
    for base in model.collections:
        children = len(rebuilt.children.get(base, {}))
        lines.append(
            f"  {base}: served {live.counts.get(base, 0):,} documents {live.combined(base)}; rebuilt "
            f"{rebuilt.counts.get(base, 0):,} documents {rebuilt.combined(base)} ({children:,} children)"
        )
    return lines


def per_child(live: Fingerprint, rebuilt: Fingerprint) -> list[str]:
    """Every child's checksum in both generations (`--show-children`)."""
    lines = []
    for base in sorted(rebuilt.children):
        for child in sorted(set(live.children.get(base, {})) | set(rebuilt.children[base])):
            (na, ca) = live.children.get(base, {}).get(child, (0, 0))
            (nb, cb) = rebuilt.children[base].get(child, (0, 0))
            mark = "=" if (na, ca) == (nb, cb) else "≠"
            lines.append(f"  {base} {child}: {na} {ca:032x} {mark} {nb} {cb:032x}")
    return lines
