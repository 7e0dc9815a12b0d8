"""A child's account events read back from `accounts.events`, to rebuild an access snapshot that missed one.

`accounts.events` is kept for ever (retention.ms=-1) and keyed by child id, so a child's whole history is on
one partition — the one the producer's partitioner picks for the key (murmur2, as in every Kafka client).
Reading it costs O(that partition), which is acceptable for the exceptional rebuild and never on a read path.
"""

from __future__ import annotations

import time

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.partitioner import DefaultPartitioner

from shared.access import HistoryIncomplete
from shared.contracts.accounts import AccountEvent, decode_account_event
from shared.events import NotForThisConsumer
from shared.kafka.auth import KafkaCredentials


class KafkaAccountHistory:
    def __init__(
        self, bootstrap: str, topic: str, *, credentials: KafkaCredentials, timeout_s: float = 30.0
    ) -> None:
        self._bootstrap = bootstrap
        self._auth = credentials.aiokafka()
        self._topic = topic
        self._timeout_s = timeout_s

    async def events_of(self, child_id: str) -> list[AccountEvent]:
        """Every account event of the child, in `seq` order; `HistoryIncomplete` if one of them cannot be
        decoded (a snapshot rebuilt without it could grant what that event took away)."""
        key = child_id.encode()
        partitions = await self.partitions()
        consumer = AIOKafkaConsumer(bootstrap_servers=self._bootstrap, enable_auto_commit=False, **self._auth)
        await consumer.start()
        try:
            tp = TopicPartition(self._topic, DefaultPartitioner()(key, partitions, partitions))
            consumer.assign([tp])
            await consumer.seek_to_beginning(tp)
            end = (await consumer.end_offsets([tp]))[tp]
            events: list[AccountEvent] = []
            deadline = time.monotonic() + self._timeout_s
            while await consumer.position(tp) < end:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"reading {self._topic} for {child_id} took over {self._timeout_s}s")
                batch = await consumer.getmany(tp, timeout_ms=1000, max_records=5000)
                for record in batch.get(tp, []):
                    if record.key != key or record.value is None:
                        continue
                    try:
                        events.append(decode_account_event(record.topic, record.value).data)
                    except NotForThisConsumer:
                        continue  # a person's sign-in event: no part of any child's access
                    except Exception as err:
                        raise HistoryIncomplete(
                            f"{child_id}'s account event at {tp.topic}/{tp.partition}/{record.offset} "
                            f"cannot be read: {err}"
                        ) from err
            return sorted(events, key=lambda e: e.seq)
        finally:
            await consumer.stop()

    async def partitions(self) -> list[int]:
        """The partitions of the topic, as the broker describes it."""
        admin = AIOKafkaAdminClient(bootstrap_servers=self._bootstrap, **self._auth)
        await admin.start()
        try:
            described = await admin.describe_topics([self._topic])
        finally:
            await admin.close()
        partitions = sorted(p["partition"] for t in described for p in t.get("partitions", ()))
        if not partitions:
            raise LookupError(f"topic {self._topic} has no partitions")
        return partitions
