"""The event producer: validated contracts in, acknowledged Kafka records out.

Idempotent (``enable.idempotence``), ``acks=all``, batched by librdkafka (``linger.ms``,
``batch.size``, lz4). Each record's key is its contract's key field (``user_id`` for
interactions), so one user's events keep their order in one partition.

Delivery reports: by default only failures call back into Python (cheap at high rates);
:meth:`EventProducer.flush` turns them into counts and raises :class:`DeliveryError` when a
record was not acknowledged. :meth:`EventProducer.send_and_wait` acknowledges one record
synchronously, for HTTP ingest that answers only after the broker did.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import KafkaError, Producer

from streams.core.contracts import Message, encode
from streams.core.errors import DeliveryError, InvalidEvent
from streams.core.settings import Settings
from streams.core.topics import TopicCatalog
from streams.kafka.clients import producer_config

POLL_EVERY = 1000  # serve delivery callbacks every N sends


@dataclass
class DeliveryStats:
    """What happened to the records sent so far."""

    sent: int = 0
    failed: int = 0
    pending: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def delivered(self) -> int:
        return self.sent - self.failed - self.pending


class EventProducer:
    """Send contracts to the topic that ``topics.yaml`` declares for them.

    Use as a context manager; leaving it flushes and raises if anything was not delivered.
    """

    def __init__(
        self,
        settings: Settings,
        catalog: TopicCatalog,
        *,
        report_successes: bool = False,
        **config_overrides: Any,
    ):
        """``report_successes`` is needed by :meth:`send_and_wait`; bulk sends do without."""
        self._topic_of = {spec.value: spec.name for spec in catalog}
        self._topic_by_type: dict[type, str] = {}
        self._report_successes = report_successes
        self._producer = Producer(
            producer_config(
                settings,
                **{"delivery.report.only.error": not report_successes, "on_delivery": self._on_error},
            )
            | config_overrides
        )
        self.stats = DeliveryStats()
        self._max_bytes = settings.max_event_bytes

    # -- sending
    def topic_for(self, message: Message) -> str:
        """The topic whose ``value`` in topics.yaml is this message's contract."""
        kind = type(message)
        topic = self._topic_by_type.get(kind)
        if topic is None:
            try:
                topic = self._topic_by_type[kind] = self._topic_of[kind.__name__]
            except KeyError:
                raise InvalidEvent(f"{kind.__name__}: no topic in topics.yaml carries this contract") from None
        return topic

    def send(self, message: Message, topic: str | None = None) -> None:
        """Queue one record; returns at once. Raises :class:`InvalidEvent` if it is too large."""
        self.send_bytes(topic or self.topic_for(message), message.kafka_key(), encode(message))

    def send_bytes(self, topic: str, key: bytes | None, value: bytes, headers: list | None = None) -> None:
        """Queue pre-encoded bytes (used by the dead-letter path and by replays of raw records)."""
        self._check_size(value)
        while True:
            try:
                self._producer.produce(topic, value, key, headers=headers)
                break
            except BufferError:  # local queue full: let librdkafka drain, then retry
                self._producer.poll(0.05)
        self.stats.sent += 1
        if self.stats.sent % POLL_EVERY == 0:
            self._producer.poll(0)

    def send_and_wait(self, message: Message, timeout_s: float = 10.0) -> tuple[int, int]:
        """Send one record and block until the broker acknowledged it; returns (partition, offset)."""
        if not self._report_successes:
            raise RuntimeError("send_and_wait needs EventProducer(..., report_successes=True)")
        done = threading.Event()
        outcome: dict[str, Any] = {}

        def on_delivery(err: KafkaError | None, msg: Any) -> None:
            outcome["err"], outcome["msg"] = err, msg
            done.set()

        value = self._check_size(encode(message))
        self._producer.produce(self.topic_for(message), value, message.kafka_key(), on_delivery=on_delivery)
        self.stats.sent += 1
        deadline = time.monotonic() + timeout_s
        while not done.is_set() and time.monotonic() < deadline:
            self._producer.poll(0.05)
        if not done.is_set() or outcome["err"] is not None:
            reason = outcome.get("err") or "timed out waiting for the broker"
            raise DeliveryError(f"not acknowledged: {reason}")
        return outcome["msg"].partition(), outcome["msg"].offset()

    def send_all_and_wait(self, messages: Sequence[Message], timeout_s: float = 2.0) -> None:
        """Send ``messages`` and block until the broker acknowledged every one of them. Only
        these count: records other callers queued, and failures before this call, do not (a
        long-lived producer shared by concurrent requests). Raises :class:`DeliveryError` when
        one failed or ``timeout_s`` passed first; the records may still arrive later, so the
        caller's retry must be idempotent (event ids are)."""
        if not self._report_successes:
            raise RuntimeError("send_all_and_wait needs EventProducer(..., report_successes=True)")
        if not messages:
            return
        lock, done = threading.Lock(), threading.Event()
        left, errors = [len(messages)], []

        def on_delivery(err: KafkaError | None, msg: Any) -> None:
            with lock:
                if err is not None:
                    errors.append(f"{msg.topic()}: {err.str()}")
                left[0] -= 1
                if left[0] == 0:
                    done.set()

        for message in messages:
            value = self._check_size(encode(message))
            while True:
                try:
                    self._producer.produce(self.topic_for(message), value, message.kafka_key(), on_delivery=on_delivery)
                    break
                except BufferError:  # local queue full: let librdkafka drain, then retry
                    self._producer.poll(0.05)
            self.stats.sent += 1
        deadline = time.monotonic() + timeout_s
        while not done.is_set() and time.monotonic() < deadline:
            self._producer.poll(0.01)
        if errors or not done.is_set():
            reason = "; ".join(errors[:3]) or f"no acknowledgement within {timeout_s:g} s"
            raise DeliveryError(f"{left[0]} of {len(messages)} record(s) not acknowledged: {reason}")

    def reachable(self, timeout_s: float = 0.5) -> None:
        """Ask a broker for metadata; raises ``KafkaException`` when none answers in time."""
        self._producer.list_topics(timeout=timeout_s)

    def _check_size(self, value: bytes) -> bytes:
        if len(value) > self._max_bytes:
            raise InvalidEvent(f"record of {len(value)} bytes exceeds max_event_bytes={self._max_bytes}")
        return value

    # -- completion
    def flush(self, timeout_s: float = 60.0, raise_on_failure: bool = True) -> DeliveryStats:
        """Wait for every queued record; raise :class:`DeliveryError` if any failed or is pending."""
        self.stats.pending = self._producer.flush(timeout_s)
        if raise_on_failure and (self.stats.failed or self.stats.pending):
            first = "; ".join(self.stats.errors[:3])
            raise DeliveryError(f"{self.stats.failed} record(s) failed and {self.stats.pending} still pending: {first}")
        return self.stats

    def _on_error(self, err: KafkaError | None, msg: Any) -> None:
        if err is not None:
            self.stats.failed += 1
            if len(self.stats.errors) < 20:
                self.stats.errors.append(f"{msg.topic()}: {err.str()}")

    def __enter__(self) -> EventProducer:
        return self

    def __exit__(self, exc_type: Any, *_: Any) -> None:
        self.flush(raise_on_failure=exc_type is None)


def publish_acknowledged(settings: Settings, messages: list[Message]) -> list[tuple[int, int]]:
    """Send ``messages`` one by one, each acknowledged by the broker: (partition, offset) of each.
    For the few control messages (model updates, retrain requests) a command publishes."""
    catalog = TopicCatalog.load(settings.topics_file, settings.topic_prefix)
    with EventProducer(settings, catalog, report_successes=True) as producer:
        return [producer.send_and_wait(message) for message in messages]
