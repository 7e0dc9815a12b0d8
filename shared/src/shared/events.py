"""The one envelope every event travels in (BRIEF §4), and helpers to make and read it.

Consumers dispatch on `type`; `version` changes only on a breaking change of `data`.
"""

from __future__ import annotations

import builtins
import uuid
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from shared.text import Line

DataT = TypeVar("DataT", bound=BaseModel)

MAX_EVENT_BYTES = 256 * 1024  # larger records are refused and dead-lettered, never half-read


class NotForThisConsumer(Exception):
    """A well-formed record of a kind this decoder does not read (a person's sign-in event on a topic whose
    consumer folds children's accounts): the consumer commits past it, neither handling nor dead-lettering it."""


def new_event_id() -> str:
    return str(uuid.uuid4())


def utc_now() -> datetime:
    return datetime.now(UTC)


class EnvelopeBase(BaseModel):
    """Fields every event shares, whatever its data."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Line = Field(min_length=1, max_length=100, description="Unique event id; a replay keeps it.")
    type: Line = Field(
        min_length=1, max_length=100, description="Past-tense event type, e.g. contact.recorded"
    )
    version: int = Field(default=1, ge=1, description="Schema version of `data` for this type.")
    source: Line = Field(
        min_length=1, max_length=100, description="Producing system: a service or an agency."
    )
    subject: Line = Field(
        min_length=1, max_length=100, description="The child this event is about (child id)."
    )
    time: datetime = Field(description="When the producer recorded the event (ISO 8601 with offset).")
    correlation_id: Line | None = Field(default=None, max_length=100)


class Envelope(EnvelopeBase, Generic[DataT]):
    """An event whose `data` has a known model."""

    data: DataT


class RawEnvelope(EnvelopeBase):
    """An event read before its type is known: `data` is checked later against the type's model."""

    data: dict[str, Any]

    def parse_data(self, model: builtins.type[DataT]) -> Envelope[DataT]:
        envelope: Envelope[DataT] = Envelope(
            **self.model_dump(exclude={"data"}), data=model.model_validate(self.data)
        )
        return envelope


def make_event(
    *,
    type: str,
    source: str,
    subject: str,
    data: DataT,
    correlation_id: str | None = None,
    event_id: str | None = None,
    version: int = 1,
) -> Envelope[DataT]:
    """A new envelope around `data`, stamped now."""
    envelope: Envelope[DataT] = Envelope(
        id=event_id or new_event_id(),
        type=type,
        version=version,
        source=source,
        subject=subject,
        time=utc_now(),
        correlation_id=correlation_id,
        data=data,
    )
    return envelope
