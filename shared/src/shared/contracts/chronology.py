"""The chronology contract, v1: what chronology publishes to `chronology.events`, keyed by child id."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from shared.events import Envelope, RawEnvelope
from shared.text import Line, Prose

SIGNIFICANCE_MARKED = "entry.significance_marked"


class SignificanceMarked(BaseModel):
    """The lead professional marked (or unmarked) a chronology entry as a significant event."""

    model_config = ConfigDict(extra="forbid")

    entry_id: Line = Field(min_length=1, max_length=100)
    significant: bool
    reason: Prose = Field(min_length=3, max_length=2000)
    by_person_id: Line = Field(min_length=1, max_length=100)
    by_name: Line = Field(min_length=1, max_length=200)
    at: datetime


def decode_chronology_event(topic: str, value: bytes) -> Envelope[SignificanceMarked]:
    """Validate one record from `chronology.events`; raises with a reason fit for the dead-letter headers."""
    raw = RawEnvelope.model_validate_json(value)
    if raw.type != SIGNIFICANCE_MARKED:
        raise ValueError(f"unknown event type {raw.type!r} on {topic}; expected {SIGNIFICANCE_MARKED!r}")
    if raw.version != 1:
        raise ValueError(f"unsupported version {raw.version} of {raw.type}; this consumer reads version 1")
    return raw.parse_data(SignificanceMarked)
