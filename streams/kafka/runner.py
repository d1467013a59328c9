"""The one Kafka consume loop of streamrec (Faust's agents aside): poll, decode, hand each batch
to a handler, commit after its effects, one bad-record policy, clean stop, idle exit.

Every consumer -- the Kafka serving path, reward attribution, the learner, the trainer, backfill,
the bounded readers of tools and tests, the demo's watch -- is a :class:`ConsumeRunner` with a
handler. What varies is declared, not re-written:

- **where to read**: ``topics`` (a consumer group subscription) or ``assignment`` (explicit
  partitions and offsets, no group rebalancing);
- **bad records** (undecodable or invalid values): :class:`DeadLetterBadRecords` sends them to
  the dead-letter topic with headers saying why and where from; :class:`SkipBadRecords` skips and
  counts them (for consumers whose input another process dead-letters), with a warning log --
  never silently;
- **commit**: ``"sync"`` (after the handler returned: at-least-once), ``"async"`` (offsets for
  lag monitoring only, when the handler keeps its own offsets), or ``"none"`` (readers);
- **when to stop**: ``stop`` set, the handler returned True, ``idle_exit_s`` without records
  (counted from the group assignment), or ``max_seconds``.

A handler that raises stops the runner before the commit, so the batch is read again.

>>> from streams.core.settings import Settings
>>> runner = ConsumeRunner(Settings(_env_file=None), group="g", topics=["t"], commit="none")
>>> runner.stats
RunStats(batches=0, records=0, bad=0, idle_exits=0)
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Generic, Literal, Protocol, TypeVar

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from streams.core.errors import InvalidEvent
from streams.core.settings import Settings
from streams.kafka.clients import consumer_config
from streams.kafka.dead_letters import dead_letter

log = logging.getLogger("streamrec.consume")
T = TypeVar("T")


@dataclass(frozen=True)
class Record(Generic[T]):
    """What a handler gets of a Kafka record; ``event`` is the decoded value (None without a decoder)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp_ms: int = 0
    event: T | None = None
    message: Any = field(default=None, repr=False, compare=False)  # the confluent-kafka Message (headers, ...)


class BadRecords(Protocol):
    """What happens to a record whose value does not decode."""

    def reject(self, record: Record, error: Exception, group: str) -> None: ...

    def flush(self) -> None:
        """Called before offsets are committed: what was rejected is durable by then."""


@dataclass
class SkipBadRecords:
    """Skip and count: for consumers whose input another process dead-letters (the features
    worker owns ``interactions``' dead letters). Logged at warning, rate-limited."""

    consumer_name: str
    skipped: int = 0
    on_skip: Callable[[Record, Exception], None] | None = None
    _logged_at: float = field(default=-1e18, repr=False)

    def reject(self, record: Record, error: Exception, group: str) -> None:
        self.skipped += 1
        if self.on_skip is not None:
            self.on_skip(record, error)
        if time.monotonic() - self._logged_at > 10.0:
            self._logged_at = time.monotonic()
            log.warning(
                "%s skipped an invalid record at %s[%d]@%d (%d so far): %s",
                self.consumer_name,
                record.topic,
                record.partition,
                record.offset,
                self.skipped,
                error,
            )

    def flush(self) -> None:
        pass


@dataclass
class DeadLetterBadRecords:
    """Send to the dead-letter topic, original key and bytes untouched, with headers saying why.
    ``producer``: an :class:`~streams.kafka.producer.EventProducer`."""

    producer: Any
    topic: str
    dead_lettered: int = 0

    def reject(self, record: Record, error: Exception, group: str) -> None:
        letter = dead_letter(error, record.key, record.value, record.topic, record.partition, record.offset, group)
        self.producer.send_bytes(self.topic, letter.key, letter.value, letter.headers)
        self.dead_lettered += 1

    def flush(self) -> None:
        if self.dead_lettered:
            self.producer.flush()


@dataclass
class RunStats:
    batches: int = 0
    records: int = 0
    bad: int = 0
    idle_exits: int = 0


@dataclass
class Batch(Generic[T]):
    """The valid records of one poll (``records``) and the end offset reached per partition,
    bad records included (``positions``: what a commit moves to)."""

    records: list[Record[T]]
    positions: dict[tuple[str, int], int]

    def __len__(self) -> int:
        return len(self.records)

    def events(self) -> list[T]:
        return [r.event for r in self.records]


class ConsumeRunner(Generic[T]):
    def __init__(
        self,
        settings: Settings,
        *,
        group: str,
        topics: Sequence[str] | None = None,
        assignment: Sequence[TopicPartition] | None = None,
        decode: Callable[[bytes], T] | None = None,
        bad_records: BadRecords | None = None,
        commit: Literal["sync", "async", "none"] = "sync",
        batch_size: int = 1000,
        poll_timeout_s: float = 0.2,
        config: dict[str, Any] | None = None,
        on_assign: Callable[[list[TopicPartition]], list[TopicPartition]] | None = None,
        on_revoke: Callable[[list[TopicPartition]], None] | None = None,
        on_lost: Callable[[list[TopicPartition]], None] | None = None,
    ):
        """``on_assign`` / ``on_revoke`` / ``on_lost`` (group subscriptions): called in the poll
        when the group moves partitions; ``on_assign`` returns them with the offsets to read from."""
        if (topics is None) == (assignment is None):
            raise ValueError("give topics (a group subscription) or an assignment, not both")
        if decode is not None and bad_records is None:
            raise ValueError("a decoder needs a bad-record policy (DeadLetterBadRecords or SkipBadRecords)")
        self.settings, self.group, self.topics, self.assignment = settings, group, topics, assignment
        self.decode, self.bad_records, self.commit_mode = decode, bad_records, commit
        self.batch_size, self.poll_timeout_s, self.config = batch_size, poll_timeout_s, config or {}
        self.on_assign, self.on_revoke, self.on_lost = on_assign, on_revoke, on_lost
        self.stats = RunStats()
        self.assigned = threading.Event()
        self.consumer: Consumer | None = None

    # -- the loop
    def batches(
        self,
        stop: threading.Event | None = None,
        idle_exit_s: float | None = None,
        max_seconds: float | None = None,
        on_idle: Callable[[], None] | None = None,
    ) -> Iterator[Batch[T]]:
        """Each poll's batch (empty polls call ``on_idle``). Nothing is committed here."""
        stop = stop or threading.Event()
        self.consumer = Consumer(consumer_config(self.settings, self.group, **self.config))
        if self.topics is not None:
            self.consumer.subscribe(list(self.topics), **self._rebalance_callbacks())
        else:
            self.consumer.assign(list(self.assignment))
            self.assigned.set()
        began = last = time.monotonic()
        try:
            while not stop.is_set():
                if max_seconds is not None and time.monotonic() - began > max_seconds:
                    break
                messages = self.consumer.consume(num_messages=self.batch_size, timeout=self.poll_timeout_s)
                batch = self._batch(messages)
                if batch is None:
                    if not self.assigned.is_set():
                        last = time.monotonic()  # idle time counts from the group assignment
                    elif idle_exit_s is not None and time.monotonic() - last > idle_exit_s:
                        self.stats.idle_exits += 1
                        break
                    if on_idle is not None:
                        on_idle()
                    continue
                last = time.monotonic()
                self.stats.batches += 1
                self.stats.records += len(batch.records)
                yield batch
        finally:
            self.consumer.close()

    def _rebalance_callbacks(self) -> dict[str, Callable]:
        def assigned(consumer: Consumer, partitions: list[TopicPartition]) -> None:
            if self.on_assign is not None:
                consumer.assign(self.on_assign(partitions))
            self.assigned.set()

        callbacks: dict[str, Callable] = {"on_assign": assigned}
        if self.on_revoke is not None:
            callbacks["on_revoke"] = lambda consumer, partitions: self.on_revoke(partitions)
        if self.on_lost is not None:
            callbacks["on_lost"] = lambda consumer, partitions: self.on_lost(partitions)
        return callbacks

    def run(
        self,
        handle: Callable[[Batch[T]], bool | None],
        stop: threading.Event | None = None,
        idle_exit_s: float | None = None,
        max_seconds: float | None = None,
        on_idle: Callable[[], None] | None = None,
    ) -> RunStats:
        """Call ``handle`` per batch and commit after it returned; stop when it returns True."""
        for batch in self.batches(stop, idle_exit_s, max_seconds, on_idle):
            done = handle(batch)
            self.commit(batch)
            if done:
                break
        return self.stats

    def commit(self, batch: Batch[T], offsets: dict[tuple[str, int], int] | None = None) -> None:
        """Commit ``offsets`` (default: past every record of ``batch``), after the bad records are durable."""
        if self.bad_records is not None:
            self.bad_records.flush()
        if self.commit_mode == "none" or self.consumer is None:
            return
        positions = offsets if offsets is not None else batch.positions
        if not positions:
            return
        try:
            self.consumer.commit(
                offsets=[TopicPartition(t, p, o) for (t, p), o in positions.items()],
                asynchronous=self.commit_mode == "async",
            )
        except KafkaException as error:
            if not _passing(error.args[0]):
                raise
            # e.g. NOT_COORDINATOR while the broker restarts: the batch comes again, and effects are
            # idempotent, so the loop goes on instead of dying
            log.warning("consumer %s: commit failed (%s); the batch will be read again", self.group, error)

    def _batch(self, messages) -> Batch[T] | None:
        if not messages:
            return None
        records, positions = [], {}
        for msg in messages:
            error = msg.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    continue
                if error.fatal():
                    raise KafkaException(error)
                log.warning("consumer %s: %s", self.group, error.str())
                continue
            positions[(msg.topic(), msg.partition())] = msg.offset() + 1
            record = Record(
                msg.topic(), msg.partition(), msg.offset(), msg.key(), msg.value(), msg.timestamp()[1], message=msg
            )
            if self.decode is not None:
                try:
                    record = replace(record, event=self.decode(record.value or b""))
                except InvalidEvent as error:
                    self.stats.bad += 1
                    self.bad_records.reject(record, error, self.group)
                    continue
            records.append(record)
        return Batch(records, positions) if positions else None


def _passing(error: KafkaError) -> bool:
    """A commit failure that time or a rebalance resolves."""
    return error.retriable() or error.code() in (
        KafkaError.NOT_COORDINATOR,
        KafkaError.COORDINATOR_NOT_AVAILABLE,
        KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
        KafkaError.REBALANCE_IN_PROGRESS,
        KafkaError.ILLEGAL_GENERATION,
        KafkaError.UNKNOWN_MEMBER_ID,
        KafkaError._NO_OFFSET,
        KafkaError._TRANSPORT,
        KafkaError._TIMED_OUT,
    )
