"""The chronology as a timeline: entries grouped by day, likely duplicates kept together, corrections linked
to what they correct. Pure: the chronology service decides what the reader may see; this only arranges it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from web.labels import long_date
from web.models import ChronologyEntry

IMPACT_ICONS = {"positive": "▲", "negative": "▼", "neutral": "●"}


@dataclass(frozen=True)
class Impact:
    code: str
    icon: str
    text: str


def impact_of(code: str, *, family: bool, child_name: str) -> Impact:
    """Impact on the child in words (colour and icon are only a second cue)."""
    if family:
        words = {
            "positive": f"Good for {child_name}",
            "negative": f"A worry for {child_name}",
            "neutral": "Neither good nor bad",
        }
    else:
        words = {"positive": "Positive impact", "negative": "Negative impact", "neutral": "Neutral impact"}
    return Impact(code, IMPACT_ICONS.get(code, "●"), words.get(code, code))


@dataclass
class Item:
    """One entry, or several entries that are likely the same event recorded by different agencies."""

    entries: list[ChronologyEntry]
    duplicate_group: str | None = None

    @property
    def is_duplicate_group(self) -> bool:
        return self.duplicate_group is not None and len(self.entries) > 1

    @property
    def significant(self) -> bool:
        return any(e.significant and not e.superseded_by for e in self.entries)


@dataclass
class Day:
    day: date
    label: str
    items: list[Item] = field(default_factory=list)


def arrange(entries: list[ChronologyEntry]) -> list[Day]:
    """Entries (oldest first, as the chronology serves them) by day, each duplicate group as one item at the
    place of its first entry."""
    days: list[Day] = []
    groups: dict[str, Item] = {}
    for entry in entries:
        day = date.fromisoformat(entry.day)
        if not days or days[-1].day != day:
            days.append(Day(day, long_date(day)))
        group = entry.duplicate_group
        if group is not None:
            item = groups.get(group)
            if item is not None:
                item.entries.append(entry)
                continue
            item = Item([entry], duplicate_group=group)
            groups[group] = item
            days[-1].items.append(item)
            continue
        days[-1].items.append(Item([entry]))
    return days


def corrections(entries: list[ChronologyEntry]) -> dict[str, ChronologyEntry]:
    """Entry id → the entry, for linking a correction to what it corrects and back."""
    return {e.id: e for e in entries}
