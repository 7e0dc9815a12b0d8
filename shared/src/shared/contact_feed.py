"""The contacts a read model stores, each with the child it is about — one rule for every consumer.

A contact with an NHS number is about that child (the decoder checked that the envelope's subject agrees). One without waits in accounts until
the child is identified, and arrives on `identity.events` with the child's id; the copy on the agency topic is
skipped, so it can never land under the agency's own reference.

An event id is unique only within its agency: every read model keys a contact as `<agency>:<event id>`
(`entry_key`), and a `supersedes` resolves within the agency. A correction that names another agency's event
is refused (`refuse_foreign_corrections`, dead-lettered with the reason); one whose original has not arrived
yet is kept, and if the original then turns out to be another agency's, the correction stays a correction of
nothing: it can never strike the other agency's entry through.

A service subscribes both handlers in its composition root:

    feed = ContactFeed(on_contacts)
    runtime.consume(topics.contacts, decode=decode_contact_event, handle=feed.on_agency_contacts, ...)
    runtime.consume([topics.identity_events], group="identified", decode=decode_identity_event,
                    handle=feed.on_identified_contacts, ...)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass

from shared.contracts.contacts import ContactRecorded, entry_key
from shared.contracts.identity import ContactIdentified
from shared.events import Envelope
from shared.kafka.consumer import Incoming, Rejected
from shared.topics import AGENCIES


@dataclass(frozen=True)
class ChildContact:
    child_id: str
    event: Envelope[ContactRecorded]

    @property
    def key(self) -> str:
        """The id of this contact's entry in a read model."""
        return entry_key(self.event.data.agency, self.event.id)

    @property
    def supersedes_key(self) -> str | None:
        """The entry this contact corrects: always one of its own agency's."""
        corrected = self.event.data.supersedes
        return None if corrected is None else entry_key(self.event.data.agency, corrected)


class ForeignCorrection(Rejected):
    """A contact's `supersedes` names another agency's event: an agency touches only what is its own."""


ExistingKeys = Callable[[Sequence[str]], Awaitable[Collection[str]]]


async def refuse_foreign_corrections(contacts: Sequence[ChildContact], existing: ExistingKeys) -> None:
    """Raise `ForeignCorrection` if a contact corrects an event that only other agencies have sent.

    `existing` says which of the given entry keys a read model holds. The batch itself counts too: an
    original and a correction of it may arrive together. The consumer then handles each event alone and
    dead-letters the one that raises, with this reason."""
    corrections = [(c, str(c.event.data.supersedes)) for c in contacts if c.event.data.supersedes]
    if not corrections:
        return
    asked = sorted({entry_key(agency, corrected) for _, corrected in corrections for agency in AGENCIES})
    found = set(await existing(asked)) | {c.key for c in contacts}
    for c, corrected in corrections:
        others = [a for a in AGENCIES if a != c.event.data.agency and entry_key(a, corrected) in found]
        if others and c.supersedes_key not in found:
            raise ForeignCorrection(
                f"data.supersedes: event {corrected!r} is {', '.join(others)}'s, not "
                f"{c.event.data.agency}'s; an agency can correct only its own events (event {c.event.id})"
            )


ContactHandler = Callable[[Sequence[ChildContact]], Awaitable[None]]


class ContactFeed:
    """Hands `handle` every contact whose child is known, from either topic."""

    def __init__(self, handle: ContactHandler) -> None:
        self._handle = handle

    async def on_agency_contacts(self, batch: Sequence[Incoming[Envelope[ContactRecorded]]]) -> None:
        """Contacts that name the child by NHS number; the others wait for accounts to identify them."""
        await self._handle(
            [
                ChildContact(i.event.data.child.nhs_number, i.event)
                for i in batch
                if i.event.data.child.nhs_number
            ]
        )

    async def on_identified_contacts(self, batch: Sequence[Incoming[Envelope[ContactIdentified]]]) -> None:
        """Contacts without an NHS number, once accounts has said which child they are about."""
        await self._handle([ChildContact(i.event.data.child_id, i.event.data.contact) for i in batch])
