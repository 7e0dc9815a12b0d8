"""The keyword cloud's sizes and, for the SVG picture, where each word goes.

Sizes are on a log scale, so one very common word does not shrink every other to the same size. The picture
lays the words out in rows, most frequent first (the order a screen reader hears them in the page's list).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

SIZES = 5  # font-size steps, 1 (smallest) to 5
FONT_PX = {1: 14, 2: 17, 3: 21, 4: 26, 5: 32}
COLOURS = {1: "#505a5f", 2: "#1d70b8", 3: "#003078", 4: "#0b0c0c", 5: "#0b0c0c"}
WIDTH, PAD, GAP = 560, 12, 14
CHAR_WIDTH = 0.56  # of the font size: a safe average for the sans-serif fonts the picture asks for


def size_step(documents: int, top: int) -> int:
    """A word's size step, 1..SIZES, for coming up in `documents` of the cloud's documents (`top`: the most
    any word does)."""
    if top <= 1 or documents <= 1:
        return 1
    return 1 + round((SIZES - 1) * math.log(documents) / math.log(top))


@dataclass(frozen=True)
class PlacedWord:
    term: str
    documents: int
    size: int
    x: float
    y: float  # the baseline
    font_px: int
    colour: str
    bold: bool


@dataclass(frozen=True)
class CloudPicture:
    width: int
    height: int
    words: tuple[PlacedWord, ...]
    documents: int

    @property
    def summary(self) -> str:
        if not self.words:
            return "No key words yet."
        top = ", ".join(f"{w.term} ({w.documents})" for w in self.words[:10])
        return f"Key words from {self.documents} records, most frequent first: {top}."


def cloud_picture(terms: Sequence[tuple[str, int]], *, documents: int) -> CloudPicture:
    """(term, documents it comes up in), most frequent first, placed in rows that wrap at the picture's width;
    a word sits on the baseline of its row."""
    top = max((n for _, n in terms), default=0)
    rows: list[list[tuple[str, int, int, float]]] = [[]]  # (term, documents, size, x)
    x = float(PAD)
    for term, n in terms:
        size = size_step(n, top)
        width = len(term) * FONT_PX[size] * CHAR_WIDTH
        if rows[-1] and x + width > WIDTH - PAD:
            rows.append([])
            x = float(PAD)
        rows[-1].append((term, n, size, round(x, 1)))
        x += width + GAP
    words, y = [], float(PAD)
    for row in rows:
        if not row:
            continue
        y += max(FONT_PX[size] for _, _, size, _ in row)
        for term, n, size, left in row:
            words.append(
                PlacedWord(term, n, size, left, round(y, 1), FONT_PX[size], COLOURS[size], size >= 4)
            )
        y += GAP / 2
    return CloudPicture(width=WIDTH, height=int(y + PAD), words=tuple(words), documents=documents)
