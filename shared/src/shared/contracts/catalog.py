"""Which envelope travels on which topic: the one table the AsyncAPI documents take their payloads from.

Consumers decode raw records themselves (shared.kafka.consumer) and the outbox publishes raw bytes, so
FastStream cannot infer a payload from either side; this says it once for every service.
"""

from __future__ import annotations

from pydantic import BaseModel

from shared.contracts.accounts import AccountEventEnvelope
from shared.contracts.audit import AuditRecorded
from shared.contracts.chronology import SignificanceMarked
from shared.contracts.contacts import ContactEnvelope
from shared.contracts.forum import ForumEventEnvelope
from shared.contracts.identity import ContactIdentified
from shared.events import Envelope
from shared.topics import Topics


def envelopes(topics: Topics) -> dict[str, type[BaseModel]]:
    """Every topic of `topics` → the model each of its records matches."""
    return {
        **dict.fromkeys(topics.contacts, ContactEnvelope),
        topics.accounts_events: AccountEventEnvelope,
        topics.audit_events: Envelope[AuditRecorded],
        topics.chronology_events: Envelope[SignificanceMarked],
        topics.forum_events: ForumEventEnvelope,
        topics.identity_events: Envelope[ContactIdentified],
    }
