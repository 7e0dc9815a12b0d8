"""An in-memory `ForumStore` with the Mongo store's semantics: one document per request, in the order written,
`_id` collisions refused as `EditConflict`, redaction erasing the words, and the outbox over the same documents.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from forum.domain import Change, EditConflict
from forum.store import CHANGES, BoardViews, changes_of, pending_of, redacted_events
from shared.mongo import Document
from shared.outbox import Pending
from testsupport.memory import stored_form


class FakeForumStore:
    name = CHANGES

    def __init__(self) -> None:
        self.docs: dict[str, Document] = {}
        self.boards: dict[str, BoardViews] = {}
        self.folds = 0  # how often a child's whole change log was read

    async def create_indexes(self) -> None:
        pass

    async def add(self, doc: Document) -> None:
        if doc["_id"] in self.docs:
            raise EditConflict("the post was changed at the same moment; reload it and try again")
        self.docs[doc["_id"]] = stored_form(doc)

    async def changes(self, child_id: str) -> list[Change]:
        return (await self.history(child_id))[1]

    async def history(self, child_id: str) -> tuple[int, list[Change]]:
        self.folds += 1
        docs = sorted((d for d in self.docs.values() if d["child_id"] == child_id), key=lambda d: d["order"])
        return len(docs), [c for d in docs for c in changes_of(d)]

    async def mark_changing(self, child_id: str) -> None:
        board = self.boards.get(child_id, BoardViews())
        self.boards[child_id] = BoardViews(board.version, board.marks + 1, True, board.views)

    async def board_views(self, child_id: str) -> BoardViews | None:
        return self.boards.get(child_id)

    async def save_board_views(
        self, child_id: str, *, version: int, marks: int, views: Mapping[str, str]
    ) -> None:
        board = self.boards.get(child_id, BoardViews())
        if board.version < version:
            board = BoardViews(version, board.marks, board.stale, dict(views))
        self.boards[child_id] = BoardViews(
            board.version, board.marks, board.stale and board.marks != marks, board.views
        )

    async def erase_words(self, child_id: str, post_id: str) -> int:
        changed = 0
        for doc in self.docs.values():
            if doc["child_id"] == child_id and post_id in doc["post_ids"]:
                events = redacted_events(doc, post_id)
                if events != doc["events"]:
                    doc["events"] = events
                    changed += 1
        return changed

    async def pending(self, *, limit: int) -> list[Pending]:
        waiting = sorted((d for d in self.docs.values() if d["pending"]), key=lambda d: d["written_at"])
        return [pending_of(d) for d in waiting[:limit]]

    async def mark_published(self, entries: Sequence[Pending]) -> None:
        for entry in entries:
            self.docs[entry.id]["pending"] = False

    async def set_aside(self, entry: Pending, reason: str) -> None:
        self.docs[entry.id].update(pending=False, outbox_set_aside=reason)

    def words(self) -> str:
        """Everything stored, the boards read model included, as text: to show that a redacted post's words
        are gone."""
        return repr(list(self.docs.values())) + repr(list(self.boards.values()))
