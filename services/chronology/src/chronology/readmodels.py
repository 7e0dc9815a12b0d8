"""Chronology's read models, declared once for the live consumers (`chronology.app`) and for the rebuild
(`python -m chronology rebuild`, `shared.rebuild`): which stores, which collections, which feeds."""

from __future__ import annotations

from collections.abc import Sequence

from chronology import handlers
from chronology.settings import ChronologySettings
from chronology.store import ENTRY_INDEXES, ChronologyStore, MongoChronologyStore
from shared import mongo
from shared.contact_feed import ContactFeed
from shared.contracts.accounts import decode_account_event
from shared.contracts.contacts import decode_contact_event
from shared.contracts.forum import decode_forum_event
from shared.contracts.identity import decode_identity_event
from shared.readmodel import Feed, ModelView, ReadModel
from shared.rebuild import run_command
from shared.topics import Topics


def chronology(topics: Topics) -> ReadModel[ChronologyStore]:
    """The child's chronology: agency contacts, the account's changes and the forum's entries."""

    def feeds(store: ChronologyStore) -> list[Feed]:
        contacts = ContactFeed(handlers.on_contacts(store))
        return [
            Feed(
                tuple(topics.contacts),
                decode_contact_event,
                contacts.on_agency_contacts,
                "chronology: agency contacts",
            ),
            Feed(
                (topics.identity_events,),
                decode_identity_event,
                contacts.on_identified_contacts,
                "chronology: identified contacts",
                group="identified",
            ),
            Feed(
                (topics.accounts_events,),
                decode_account_event,
                handlers.on_account_events(store),
                "chronology: account changes onto the timeline",
                group="timeline",
            ),
            Feed(
                (topics.forum_events,),
                decode_forum_event,
                handlers.on_forum_events(store),
                "chronology: forum worries, pins and scales onto the timeline",
                group="forum",
            ),
        ]

    def open_store(view: ModelView, previous: ModelView | None) -> ChronologyStore:
        return MongoChronologyStore(view.db, view)

    return ReadModel(name="chronology", collections=ENTRY_INDEXES, open=open_store, feeds=feeds)


def read_models(topics: Topics) -> Sequence[ReadModel[ChronologyStore]]:
    """Every read model of the service, for the rebuild."""
    return [chronology(topics)]


async def rebuild_command(settings: ChronologySettings, argv: Sequence[str]) -> int:
    """`python -m chronology rebuild`: see `shared.rebuild`."""
    client = mongo.connect(settings.mongo_url, app_name=f"{settings.service_name}-rebuild")
    try:
        models = read_models(Topics(settings.topic_prefix))
        return await run_command(settings, argv, client=client, models=models)
    finally:
        await client.close()
