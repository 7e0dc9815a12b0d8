"""What every accounts use case is handed: the stores, the audit trail and the outbox's doorbell.

Built by `app.accounts_context`, once in `app.create_app`, and put on `app.state`, where the routes' `AccountsDep`
finds it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from accounts.audit.store import AuditStore
from accounts.children.store import ChildStore
from accounts.identity.models import Publish
from accounts.identity.store import ContactMatchStore, MatchStore
from accounts.people.sessions import SessionStore
from accounts.people.store import PeopleStore
from shared.audit import AuditTrail
from shared.topics import DEFAULT, Topics


@dataclass
class Accounts:
    """What the use cases need, built by `app.accounts_context`."""

    store: ChildStore  # the children's accounts: every team change is a commit here, and the outbox
    people: PeopleStore
    matches: MatchStore
    contacts: ContactMatchStore
    audit_store: AuditStore
    trail: AuditTrail
    notify_outbox: Callable[[], None]
    publish_identified: Publish
    break_glass_for: timedelta
    sessions: SessionStore
    session_lasts: timedelta = timedelta(hours=12)
    topics: Topics = DEFAULT
