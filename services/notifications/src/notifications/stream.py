"""A person's live stream of notifications (Server-Sent Events): what they may see at the moment each is
sent, in inbox order, resumable with `Last-Event-ID` (the last `seq` received) without loss or repetition.

The stream first catches up from the inbox after the client's last `seq`, then sends what the hub pushes
(written in this process) as long as it follows on; on a gap, or every `poll_s` when nothing came, it reads
the inbox again — that is how it sees other replicas' writes. Places in an inbox are dense (`Inboxes`), so
"after the last `seq` sent" never skips one written later at a lower place.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from notifications.delivery import Access, Hub
from notifications.models import Preferences
from notifications.service import preferences_of, to_read
from notifications.store import NotificationStore
from shared import mongo
from shared.policy import Principal

CATCH_UP = 200


@dataclass(frozen=True)
class StreamEvent:
    """One Server-Sent Event: its id is the notification's place in the inbox."""

    id: str
    event: str
    data: str


@dataclass
class LiveStream:
    store: NotificationStore
    access: Access
    hub: Hub
    poll_s: float
    max_s: float = 300.0

    async def batches(self, principal: Principal, *, after: int) -> AsyncIterator[list[StreamEvent]]:
        """The person's notifications after `after`, then live ones, as they may see them when sent; in
        batches as they were written (the route sends each batch as one write: per-event writes through
        the ASGI stack were a good share of the service's time at 500 events/s)."""
        sent = after
        prefs: list[tuple[float, Preferences]] = []  # this stream's, read again at most every poll_s
        ends = time.monotonic() + self.max_s
        with self.hub.subscribe(principal.subject) as pushed:
            while time.monotonic() < ends:
                docs = await self.store.after(principal.subject, sent, limit=CATCH_UP)
                if events := await self._send(principal, docs, prefs):
                    yield events
                if docs:
                    sent = docs[-1]["seq"]
                if len(docs) == CATCH_UP:
                    continue
                while (left := ends - time.monotonic()) > 0:  # follow the hub while what it pushes follows on
                    try:
                        first = await asyncio.wait_for(pushed.get(), min(self.poll_s, left))
                    except TimeoutError:
                        break
                    batch = sorted([first, *_drain(pushed)], key=lambda d: d["seq"])
                    batch = [d for d in batch if d["seq"] > sent]
                    if not batch:
                        continue
                    if batch[0]["seq"] != sent + 1 or not _dense(batch):
                        break  # something was written elsewhere in between: read the inbox
                    if events := await self._send(principal, batch, prefs):
                        yield events
                    sent = batch[-1]["seq"]

    async def _send(
        self, principal: Principal, docs: list[mongo.Document], prefs: list[tuple[float, Preferences]]
    ) -> list[StreamEvent]:
        if not docs:
            return []
        # Preferences are read again at most every `poll_s` (a change reaches an open stream that soon);
        # access is checked for every send.
        if not prefs or time.monotonic() - prefs[0][0] > self.poll_s:
            prefs[:] = [
                (time.monotonic(), await preferences_of(self.store, principal.subject, principal.kind))
            ]
        chosen = prefs[0][1]
        return [
            StreamEvent(id=str(doc["seq"]), event="notification", data=to_read(doc).model_dump_json())
            for doc in await self.access.visible(principal, docs)
            if doc.get("urgent") or chosen.allows(doc["kind"], "live")
        ]


def _drain(queue: asyncio.Queue[mongo.Document]) -> list[mongo.Document]:
    out = []
    while not queue.empty():
        out.append(queue.get_nowait())
    return out


def _dense(batch: list[mongo.Document]) -> bool:
    return all(b["seq"] == a["seq"] + 1 for a, b in itertools.pairwise(batch))


def last_event_id(header: str | None) -> int | None:
    """The `seq` a reconnecting client last received; None for a new stream (nonsense counts as new)."""
    if header and header.strip().isdigit():
        return min(int(header.strip()), 2**62)
    return None
