"""The cloud's post use case against the in-memory store: a batch that failed between writing its documents
and its clouds ends right when it is delivered again, and replaying a post's history from the start gives the
same documents and clouds as applying it live."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest
from analytics_fakes import FakeCloudStore, InlineKeywords

from analytics.cloud import service
from analytics.cloud.models import CloudState, CloudView
from analytics.cloud.store import Cloud
from testsupport.events import new_nhs_number
from testsupport.forum_events import participant, post_added, post_edited, post_redacted
from testsupport.memory import MemoryAccessSnapshots

DENTAL = "Missed the dental appointment again; the dental clinic sent a letter."
HOMEWORK = "Homework club after school is going well and attendance improved."


class FailsOnce(FakeCloudStore):
    """Saving the clouds fails the first time, as a crash after the documents were written would."""

    def __init__(self) -> None:
        super().__init__()
        self.failed = False

    async def save_clouds(self, child_id: str, state: CloudState, clouds: Mapping[CloudView, Cloud]) -> bool:
        if not self.failed:
            self.failed = True
            raise ConnectionError("the database went away")
        return await super().save_clouds(child_id, state, clouds)


async def test_a_batch_delivered_again_after_a_failure_between_documents_and_clouds_ends_right() -> None:
    store, snapshots = FailsOnce(), MemoryAccessSnapshots()
    child = new_nhs_number()
    batch = [post_added(child, DENTAL, by=participant("lead-1"))]
    with pytest.raises(ConnectionError):
        await service.record_posts(store=store, pool=InlineKeywords(), snapshots=snapshots, events=batch)
    assert store.documents and not store.clouds  # the documents were written, the clouds not

    written = await service.record_posts(
        store=store, pool=InlineKeywords(), snapshots=snapshots, events=batch
    )

    assert written == 1  # the clouds never counted it, so its document is written again, the same
    cloud = await service.keyword_cloud(store=store, access=None, child_id=child, view="full")
    assert "dental appointment" in {t.term for t in cloud.terms}


async def test_replaying_a_posts_history_gives_the_same_documents_and_clouds_as_live() -> None:
    child = new_nhs_number()
    by = participant("lead-1")
    first, second = post_added(child, DENTAL, by=by), post_added(child, HOMEWORK, by=by)
    history = [first, second, post_edited(first, HOMEWORK + " Reading too."), post_redacted(second)]
    live, replayed = FakeCloudStore(), FakeCloudStore()
    for event in history:  # one batch per event, as it happened
        await service.record_posts(
            store=live, pool=InlineKeywords(), snapshots=MemoryAccessSnapshots(), events=[event]
        )
    await service.record_posts(  # the whole topic in one batch, as a rebuild reads it
        store=replayed, pool=InlineKeywords(), snapshots=MemoryAccessSnapshots(), events=history
    )

    assert replayed.documents == live.documents
    assert _saved(replayed) == _saved(live)


def _saved(store: FakeCloudStore) -> dict[str, dict[str, object]]:
    """The clouds as a rebuild's check compares them: not how many saves they took."""
    return {child: {k: v for k, v in doc.items() if k != "revision"} for child, doc in store.clouds.items()}


class ReadsStaleOnce(FakeCloudStore):
    """The first read of the states misses what another writer saved just before, as a race between two
    replicas (or the contact and post feeds) would."""

    def __init__(self) -> None:
        super().__init__()
        self.stale = True

    async def states(self, child_ids: Sequence[str]) -> dict[str, CloudState]:
        if self.stale:
            self.stale = False
            return {child: CloudState() for child in child_ids}
        return await super().states(child_ids)


async def test_a_writer_that_read_a_stale_state_counts_its_post_over_the_other_writers() -> None:
    store, snapshots = ReadsStaleOnce(), MemoryAccessSnapshots()
    child = new_nhs_number()
    by = participant("lead-1")
    store.stale = False
    await service.record_posts(
        store=store, pool=InlineKeywords(), snapshots=snapshots, events=[post_added(child, DENTAL, by=by)]
    )
    store.stale = True  # the next writer read before that save landed
    await service.record_posts(
        store=store, pool=InlineKeywords(), snapshots=snapshots, events=[post_added(child, HOMEWORK, by=by)]
    )

    cloud = await service.keyword_cloud(store=store, access=None, child_id=child, view="full")
    terms = {t.term for t in cloud.terms}
    assert cloud.documents == 2 and {"dental appointment", "homework club"} <= terms
    assert store.clouds[child]["revision"] == 2  # the refused save was not counted as one
