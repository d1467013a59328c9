"""Read records back from a topic (demo summaries, tests, benchmarks): bounded readers on the
one :class:`~streams.kafka.runner.ConsumeRunner`. They yield confluent-kafka Messages and never commit."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Iterator

from confluent_kafka import Consumer, KafkaException, Message, TopicPartition

from streams.core.settings import Settings
from streams.kafka.clients import consumer_config
from streams.kafka.runner import ConsumeRunner

log = logging.getLogger("streamrec.consume")


def read_topic(
    settings: Settings,
    topic: str,
    *,
    expected: int | None = None,
    idle_timeout_s: float = 5.0,
    max_seconds: float = 300.0,
    group_id: str | None = None,
) -> Iterator[Message]:
    """Yield records from the beginning of ``topic`` until ``expected`` were read, nothing new
    arrived for ``idle_timeout_s`` (30 s before the first record), or ``max_seconds`` passed.
    A fresh group by default."""
    runner = ConsumeRunner(
        settings,
        group=group_id or f"streamrec-reader-{uuid.uuid4().hex[:8]}",
        topics=[topic],
        commit="none",
        batch_size=10_000,
        poll_timeout_s=0.5,
        config={"fetch.min.bytes": 1},
    )
    count, began, last = 0, time.monotonic(), time.monotonic()

    def idle() -> None:
        limit = idle_timeout_s if count else max(idle_timeout_s, 30.0)
        if time.monotonic() - (last if count else began) > limit:
            stop.set()

    stop = threading.Event()
    for batch in runner.batches(stop, max_seconds=max_seconds, on_idle=idle):
        last = time.monotonic()
        for record in batch.records:
            count += 1
            yield record.message
            if expected is not None and count >= expected:
                return


def partitions(settings: Settings, topic: str) -> list[int]:
    """The partition numbers of ``topic``. Metadata only: no poll."""
    consumer = Consumer(consumer_config(settings, "streamrec-offsets"))
    try:
        return sorted(consumer.list_topics(topic, timeout=10).topics[topic].partitions)
    finally:
        consumer.close()


def end_offsets(settings: Settings, topic: str, retry_s: float = 0.0) -> dict[int, int]:
    """Partition -> high watermark (the offset the next record will get). Metadata only: no poll.
    ``retry_s``: keep asking that long while the broker cannot say (a new topic's leaders may not
    be elected yet)."""
    consumer = Consumer(consumer_config(settings, "streamrec-offsets"))
    deadline = time.monotonic() + retry_s
    try:
        while True:
            try:
                partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
                return {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in partitions}
            except KafkaException as error:
                if time.monotonic() > deadline:
                    raise
                log.info("end offsets of %s not known yet (%s); retrying", topic, error.args[0].str())
                time.sleep(0.2)
    finally:
        consumer.close()


def read_range(
    settings: Settings, topic: str, start: dict[int, int], end: dict[int, int], max_seconds: float = 300.0
) -> Iterator[Message]:
    """Yield exactly the records in ``[start[p], end[p])`` of each partition (no group, no commit)."""
    todo = {p: (start.get(p, 0), e) for p, e in end.items() if e > start.get(p, 0)}
    if not todo:
        return
    runner = ConsumeRunner(
        settings,
        group="streamrec-range-reader",
        commit="none",
        batch_size=10_000,
        poll_timeout_s=0.5,
        assignment=[TopicPartition(topic, p, s) for p, (s, _) in todo.items()],
    )
    remaining = dict(todo)
    for batch in runner.batches(max_seconds=max_seconds):
        for record in batch.records:
            p = record.partition
            if p in remaining and record.offset < remaining[p][1]:
                yield record.message
                if record.offset + 1 >= remaining[p][1]:
                    del remaining[p]
        if not remaining:
            return
    if remaining:
        raise TimeoutError(f"{topic}: records missing in partitions {sorted(remaining)} after {max_seconds}s")


class GroupLag:
    """Broker-side lag of a consumer group on a topic: end offsets minus committed offsets, summed.
    Metadata only: it never joins the group."""

    def __init__(self, settings: Settings, group: str, topic: str):
        self.topic = topic
        self.consumer = Consumer(consumer_config(settings, group))
        self._partitions: list[TopicPartition] | None = None

    def __call__(self) -> int:
        if self._partitions is None:
            meta = self.consumer.list_topics(self.topic, timeout=5).topics[self.topic].partitions
            self._partitions = [TopicPartition(self.topic, p) for p in sorted(meta)]
        committed = sum(max(tp.offset, 0) for tp in self.consumer.committed(self._partitions, timeout=5))
        ends = sum(self.consumer.get_watermark_offsets(tp, timeout=5, cached=False)[1] for tp in self._partitions)
        return max(ends - committed, 0)

    def close(self) -> None:
        self.consumer.close()
