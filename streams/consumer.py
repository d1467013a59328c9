"""Read records back from a topic (demo summaries, tests, benchmarks): a bounded consumer."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

from confluent_kafka import Consumer, KafkaError, Message, TopicPartition

from streams.settings import Settings


def read_topic(settings: Settings, topic: str, *, expected: int | None = None,
               idle_timeout_s: float = 5.0, max_seconds: float = 300.0,
               group_id: str | None = None) -> Iterator[Message]:
    """Yield records from the beginning of ``topic`` until ``expected`` were read, nothing new
    arrived for ``idle_timeout_s``, or ``max_seconds`` passed. A fresh group by default."""
    consumer = Consumer(settings.kafka_client_config() | {
        "group.id": group_id or f"streamrec-reader-{uuid.uuid4().hex[:8]}",
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "fetch.min.bytes": 1,
    })
    consumer.subscribe([topic])
    count, began, last = 0, time.monotonic(), time.monotonic()
    try:
        while time.monotonic() - began < max_seconds and (expected is None or count < expected):
            batch = consumer.consume(num_messages=10_000, timeout=0.5)
            if not batch:
                if count and time.monotonic() - last > idle_timeout_s:
                    break
                if not count and time.monotonic() - began > max(idle_timeout_s, 30.0):
                    break
                continue
            last = time.monotonic()
            for msg in batch:
                err = msg.error()
                if err is not None:
                    if err.code() == KafkaError._PARTITION_EOF:
                        continue
                    raise RuntimeError(f"consume error on {topic}: {err.str()}")
                count += 1
                yield msg
    finally:
        consumer.close()


def end_offsets(settings: Settings, topic: str) -> dict[int, int]:
    """Partition -> high watermark (the offset the next record will get)."""
    consumer = Consumer(settings.kafka_client_config() | {"group.id": "streamrec-offsets", "enable.auto.commit": False})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        return {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in partitions}
    finally:
        consumer.close()


def read_range(settings: Settings, topic: str, start: dict[int, int], end: dict[int, int],
               max_seconds: float = 300.0) -> Iterator[Message]:
    """Yield exactly the records in ``[start[p], end[p])`` of each partition (no group, no commit)."""
    todo = {p: (start.get(p, 0), e) for p, e in end.items() if e > start.get(p, 0)}
    if not todo:
        return
    consumer = Consumer(settings.kafka_client_config() | {
        "group.id": "streamrec-range-reader", "enable.auto.commit": False, "enable.partition.eof": True,
    })
    consumer.assign([TopicPartition(topic, p, s) for p, (s, _) in todo.items()])
    remaining, began = dict(todo), time.monotonic()
    try:
        while remaining and time.monotonic() - began < max_seconds:
            for msg in consumer.consume(num_messages=10_000, timeout=0.5):
                if msg.error() is not None:
                    if msg.error().code() != KafkaError._PARTITION_EOF:
                        raise RuntimeError(f"consume error on {topic}: {msg.error().str()}")
                    continue
                p = msg.partition()
                if p in remaining and msg.offset() < remaining[p][1]:
                    yield msg
                    if msg.offset() + 1 >= remaining[p][1]:
                        del remaining[p]
        if remaining:
            raise TimeoutError(f"{topic}: records missing in partitions {sorted(remaining)} after {max_seconds}s")
    finally:
        consumer.close()
