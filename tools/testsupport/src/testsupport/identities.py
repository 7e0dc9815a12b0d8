"""Signed-in people and children's teams for tests: a real signing key, real account events on the broker.

The services under test verify tokens with this key's JWKS (`<PREFIX>AUTH_JWKS`) and learn who may see which
child from `accounts.events`, exactly as they do from the accounts service.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from aiokafka import AIOKafkaProducer

from shared.auth import DEFAULT_AUDIENCE, DEFAULT_ISSUER, SigningKey, TokenIssuer
from shared.contracts.accounts import (
    AccountEvent,
    Actor,
    ChildRegistered,
    FamilyLinked,
    PersonRef,
    account_event,
)
from shared.kafka.auth import KafkaCredentials
from shared.policy import Principal, PrincipalKind
from shared.topics import DEFAULT, Topics


class Identities:
    """Tokens from a key generated for this test session."""

    def __init__(self) -> None:
        # An hour, not accounts' minutes: a benchmark or a long test keeps one token throughout.
        self.issuer = TokenIssuer(
            keys=[SigningKey.generate()],
            issuer=DEFAULT_ISSUER,
            audience=DEFAULT_AUDIENCE,
            ttl=timedelta(hours=1),
        )

    def jwks_json(self) -> str:
        """The public key as a JWKS document: a service given it (`<PREFIX>AUTH_JWKS`) trusts only this key."""
        return json.dumps(self.issuer.jwks())

    def jwks_env(self, prefix: str) -> dict[str, str]:
        return {f"{prefix}AUTH_JWKS": self.jwks_json()}

    def token(
        self,
        subject: str,
        *,
        kind: PrincipalKind = "practitioner",
        agency: str | None = "socialcare",
        role: str | None = "Social worker",
    ) -> str:
        principal = Principal(subject=subject, name=f"Test {subject}", kind=kind, agency=agency, role=role)
        return self.issuer.issue(principal).access_token

    def headers(self, subject: str, *, kind: PrincipalKind = "practitioner") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(subject, kind=kind)}"}


async def open_account(
    bootstrap: str,
    *,
    credentials: KafkaCredentials,
    child_id: str,
    lead_id: str,
    family_id: str | None = None,
    sensitive: bool = False,
    topics: Topics = DEFAULT,
) -> None:
    """Publish what accounts publishes when a lead opens a child's account (and links a parent), signed in
    as `credentials` (a test's administrator, or accounts' own user)."""
    now = datetime.now(UTC)
    actor = Actor(person_id=lead_id, name=f"Test {lead_id}", kind="practitioner")
    events: list[AccountEvent] = [
        ChildRegistered(
            child_id=child_id,
            seq=1,
            actor=actor,
            at=now,
            nhs_number=child_id,
            given_name="Test",
            family_name="Child",
            date_of_birth=date(2016, 5, 4),
            sensitive_service=sensitive,
            lead=PersonRef(
                person_id=lead_id,
                name=f"Test {lead_id}",
                kind="practitioner",
                agency="socialcare",
                role="Social worker",
            ),
        )
    ]
    if family_id:
        events.append(
            FamilyLinked(
                child_id=child_id,
                seq=2,
                actor=actor,
                at=now,
                person_id=family_id,
                name="Test parent",
                relationship="parent",
            )
        )
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, **credentials.aiokafka()
    )
    await producer.start()
    try:
        for data in events:
            envelope = account_event(data)
            await producer.send_and_wait(
                topics.accounts_events, envelope.model_dump_json().encode(), key=child_id.encode()
            )
    finally:
        await producer.stop()
