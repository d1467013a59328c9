"""Backfill: re-read ``interactions`` from a point in time and rebuild features and archive.

Reads with its own consumer group from explicit offsets (Kafka's time index:
``offsets_for_times``), up to the end offsets taken at the start, through the same
:class:`FeatureProcessor` as the worker. Idempotent: states skip offsets they already applied,
and feature rows of every touched key are rewritten, so a wiped online store comes back.
Item events skip the repartition topic and go straight to the item side in-process.

Times are Kafka record times (when an event reached Kafka), not event times: the record
timestamp is the producer's clock (see docs/architecture.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from confluent_kafka import Consumer, TopicPartition

from streams.core.settings import Settings
from streams.features.processor import FeatureProcessor, Record, routed_events
from streams.kafka.clients import consumer_config
from streams.kafka.runner import Batch as RunnerBatch
from streams.kafka.runner import ConsumeRunner

BATCH = 5000


@dataclass(frozen=True)
class PartitionRange:
    partition: int
    start: int
    end: int  # exclusive

    @property
    def count(self) -> int:
        return max(0, self.end - self.start)


@dataclass
class BackfillReport:
    ranges: list[PartitionRange]
    read: int = 0
    applied: int = 0
    skipped: int = 0
    invalid: int = 0
    rows_written: int = 0
    seconds: float = 0.0
    by_partition: dict[int, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.read / self.seconds if self.seconds else 0.0


def plan(settings: Settings, topic: str, start: datetime | None, end: datetime | None) -> list[PartitionRange]:
    """Offsets per partition for ``[start, end)`` in record time (None = from the beginning / to the end)."""
    consumer = Consumer(consumer_config(settings, "streamrec-backfill-planner"))
    try:
        partitions = sorted(consumer.list_topics(topic, timeout=10).topics[topic].partitions)
        marks = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10) for p in partitions}

        def at(moment: datetime | None, default_index: int) -> dict[int, int]:
            if moment is None:
                return {p: marks[p][default_index] for p in partitions}
            ms = int(moment.timestamp() * 1000)
            found = consumer.offsets_for_times([TopicPartition(topic, p, ms) for p in partitions], timeout=10)
            return {tp.partition: tp.offset if tp.offset >= 0 else marks[tp.partition][1] for tp in found}

        starts, ends = at(start, 0), at(end, 1)
        return [PartitionRange(p, starts[p], max(starts[p], ends[p])) for p in partitions]
    finally:
        consumer.close()


def run(
    settings: Settings,
    topic: str,
    ranges: list[PartitionRange],
    processor: FeatureProcessor,
    progress: Callable[[int], None] = lambda n: None,
) -> BackfillReport:
    report = BackfillReport(ranges)
    todo = {r.partition: r for r in ranges if r.count}
    if not todo:
        return report
    runner = ConsumeRunner(
        settings,
        group=f"{settings.worker_group}-backfill-{int(time.time())}",
        commit="none",
        assignment=[TopicPartition(topic, r.partition, r.start) for r in todo.values()],
        batch_size=BATCH,
        poll_timeout_s=1.0,
        config={"fetch.max.bytes": 64 * 1024 * 1024},
    )
    began = time.monotonic()

    def handle(batch: RunnerBatch) -> bool:
        records: list[Record] = []
        for r in batch.records:
            end = todo.get(r.partition)
            if end is None or r.offset >= end.end:
                continue
            records.append(r)
            if r.offset + 1 >= end.end:
                del todo[r.partition]
        if records:
            _apply(processor, records, report)
            progress(len(records))
        return not todo

    runner.run(handle)
    report.seconds = time.monotonic() - began
    return report


def _apply(processor: FeatureProcessor, batch: list[Record], report: BackfillReport) -> None:
    result = processor.process_interactions(batch, route=False)
    items = processor.process_routed(routed_events(result.valid)) if result.valid else None
    report.read += len(batch)
    report.applied += result.applied
    report.skipped += result.skipped
    report.invalid += len(result.dead_letters)
    report.rows_written += result.rows_written + (items.rows_written if items else 0)
    for record in batch:
        report.by_partition[record.partition] = report.by_partition.get(record.partition, 0) + 1
