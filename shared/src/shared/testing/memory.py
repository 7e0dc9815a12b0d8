"""In-memory stand-ins for the storage every service shares, for unit tests: no server, same outcomes.

Each keeps the semantics of the MongoDB code it replaces (`shared.mongo.append_many`, `shared.access`), so a
service tested against them behaves as it does against FerretDB.
"""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from datetime import UTC, datetime
from typing import Any

from shared.mongo import AppendResult, Document


def stored_form(value: Any) -> Any:
    """A deep copy of `value` as it comes back from the server: BSON dates are UTC, to the millisecond."""
    if isinstance(value, datetime):
        utc = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
        return utc.replace(microsecond=utc.microsecond // 1000 * 1000)
    if isinstance(value, dict):
        return {k: stored_form(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [stored_form(v) for v in value]
    return value


def append_by_id(stored: MutableMapping[Any, Document], docs: Sequence[Document]) -> AppendResult:
    """`shared.mongo.append_many` on a dict keyed by `_id`: a document whose `_id` is stored already (or came
    earlier in the same batch) is a duplicate and is left out; the rest are stored in their stored form."""
    result = AppendResult()
    for doc in docs:
        if doc["_id"] in stored:
            result.duplicate_ids.append(doc["_id"])
            continue
        stored[doc["_id"]] = stored_form(doc)
        result.inserted += 1
    return result
