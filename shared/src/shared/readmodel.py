"""Read models that can be rebuilt from the topics: what each is made of, and which generation of it is served.

A read model (chronology's entries, analytics' contact graph, the keyword cloud, ...) is declared once, in its
service's `readmodels.py`, as a `ReadModel`: its collections and their indexes, how to open its stores over a
set of those collections, and the consumers (`Feed`s) that build it. The composition root registers each with
`Runtime.read_model` (one line a model), which consumes its feeds into the served generation; the rebuild
(`shared.rebuild`) opens the same stores over a new generation and replays the same feeds into it, so the
rebuild runs exactly the handler code the live consumers run.

Why a pointer and not a rename: FerretDB 1.24's `renameCollection` refuses `dropTarget` (FerretDB issue #2565;
`internal/handler/msg_renamecollection.go` in v1.24.2 answers "not implemented") and renames across databases
(#2563), so replacing a served collection by renames leaves a moment with no collection, in which reads find
nothing and a write creates an empty one. Instead each generation has collections of its own (`entries` is
generation 0, then `entries_g1`, `entries_g2`, ...), and one document per model in `read_models` says which
generation is served. Stores resolve their collections through the pointer on every operation, and each
process re-reads the pointers every `POLL_S`: one single-document update swaps all of a model's collections at
once, and a reader sees either the old generation, complete, or the new one, complete.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from pymongo import IndexModel
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from shared import mongo
from shared.kafka.consumer import BatchHandler, Decoder

log = logging.getLogger(__name__)
POINTERS = "read_models"
POLL_S = 1.0  # how often a process re-reads the pointers; the rebuild waits a few of these after a swap
S = TypeVar("S")


def collection_name(base: str, generation: int) -> str:
    """Generation 0 keeps the plain names, so a deployment from before rebuilds existed is generation 0."""
    return base if generation == 0 else f"{base}_g{generation}"


def generation_of(name: str, base: str) -> int | None:
    """The generation a collection named `name` belongs to, if it is one of `base`'s."""
    if name == base:
        return 0
    prefix = f"{base}_g"
    return int(name[len(prefix) :]) if name.startswith(prefix) and name[len(prefix) :].isdigit() else None


class ModelView:
    """One read model's collections, by their base names, in a fixed generation or in the served one."""

    def __init__(self, db: AsyncDatabase[mongo.Document], generation: int | Callable[[], int]) -> None:
        self.db = db
        self._generation = generation

    @property
    def generation(self) -> int:
        return self._generation() if callable(self._generation) else self._generation

    def name(self, base: str) -> str:
        return collection_name(base, self.generation)

    def __getitem__(self, base: str) -> AsyncCollection[mongo.Document]:
        return self.db[self.name(base)]


@dataclass(frozen=True)
class Feed:
    """One consumer that builds a read model: what `Runtime.consume` is given, declared once for both the
    live consumer and the rebuild's replay. `group` is the live consumer group's suffix."""

    topics: tuple[str, ...]
    decode: Decoder[Any]
    handle: BatchHandler[Any]
    title: str
    group: str = ""


@dataclass(frozen=True)
class ReadModel(Generic[S]):
    """A read model of one service, declared once (see the module's docstring).

    `open(view, previous)` makes the model's stores over `view`; a rebuild passes the served generation as
    `previous`, for a model that can reuse what it holds (the cloud's kept keywords). `feeds(stores)` are its
    consumers. `ignore` names, per collection, the fields that legitimately differ between two builds from the
    same events (when a document was built), left out of the checksums. `finish(stores)` runs after each
    replay of a rebuild, for what a model defers while replaying (the cloud builds each child's clouds once);
    `report(stores, seconds)` adds the model's own lines to the rebuild's report."""

    name: str
    collections: Mapping[str, Sequence[IndexModel]]
    open: Callable[[ModelView, ModelView | None], S]
    feeds: Callable[[S], Sequence[Feed]]
    ignore: Mapping[str, frozenset[str]] = field(default_factory=dict)
    finish: Callable[[S], Awaitable[None]] | None = None
    report: Callable[[S, float], Awaitable[list[str]]] | None = None


class Generations:
    """Which generation of each of a service's read models is served, as last read from `read_models`."""

    def __init__(self, db: AsyncDatabase[mongo.Document]) -> None:
        self._db = db
        self._served: dict[str, int] = {}

    def served(self, model: str) -> int:
        return self._served.get(model, 0)

    def view(self, model: str) -> ModelView:
        """The model's collections in whichever generation is served at the moment of each operation."""
        return ModelView(self._db, lambda: self.served(model))

    def fixed(self, model: str, generation: int) -> ModelView:
        del model  # a generation's collection names depend on the base names only
        return ModelView(self._db, generation)

    async def refresh(self) -> None:
        async for doc in self._db[POINTERS].find({}, {"generation": 1}):
            self._served[doc["_id"]] = int(doc["generation"])

    async def follow(self, every_s: float = POLL_S) -> None:
        """Re-read the pointers every `every_s` until cancelled (a background task of the service)."""
        while True:
            await asyncio.sleep(every_s)
            try:
                await self.refresh()
            except Exception as err:  # keep serving the generation known last; say so and try again
                log.warning("could not read the read models' pointers: %s", err)

    async def swap(self, model: str, generation: int) -> None:
        """Serve `generation` of `model` from now on: one single-document write."""
        await mongo.update_by_id(
            self._db[POINTERS],
            {model: {"$set": {"generation": generation, "swapped_at": datetime.now(UTC)}}},
            upsert=True,
        )
        self._served[model] = generation

    async def generations_present(self, model: ReadModel[Any]) -> set[int]:
        """Every generation of which some collection of `model` exists (a failed rebuild leaves one behind)."""
        names = await self._db.list_collection_names()
        found = {generation_of(n, base) for n in names for base in model.collections}
        return {g for g in found if g is not None}

    async def drop(self, model: ReadModel[Any], generation: int) -> None:
        for base in model.collections:
            await self._db.drop_collection(collection_name(base, generation))
