"""Read your writes: an answer reflects every event of the user that the broker had acknowledged
when the request came, not only those the API's tail happened to have read.

Before ranking, the API asks the broker for the end offset of the user's partition of
``interactions`` (one ``ListOffsets`` round trip on a consumer that fetches nothing, about
0.2 ms on a local broker) and waits, at most ``budget_s``, until its tail
(:class:`serving.recent_events.RecentEvents`) has read up to it. The tail follows the topic within
a few milliseconds, so the wait is usually nothing, or the moment an event acknowledged just before
the request needs to reach it.

The user's partition is the one streamrec's producers choose: librdkafka's default partitioner
(``consistent_random``: CRC-32 of the key, the user id, modulo the partition count). A producer
that partitions otherwise (Java's murmur2) is still served, only without this guarantee.

>>> partition_of("user-1", 6), partition_of("user-2", 6)
(2, 4)
"""

from __future__ import annotations

import logging
import time
import uuid
import zlib
from collections.abc import Callable
from enum import StrEnum

from confluent_kafka import Consumer, KafkaException, TopicPartition

from serving.recent_events import RecentEvents
from streams.core.settings import Settings
from streams.core.topics import TopicCatalog
from streams.kafka.clients import consumer_config

log = logging.getLogger("streamrec.serve")


class Settled(StrEnum):
    """How a request's wait for its user's events ended (the label of a metric)."""

    CAUGHT_UP = "caught_up"  # the tail holds every event acknowledged before the request
    TIMED_OUT = "timed_out"  # the tail was behind for longer than the budget: answered without the newest
    UNAVAILABLE = "unavailable"  # the broker did not say where the partition ends
    SKIPPED = "skipped"  # the broker was unavailable a moment ago: no wait until it is asked again


def partition_of(user_id: str, partitions: int) -> int:
    """The partition librdkafka's default partitioner gives a record keyed by ``user_id``."""
    return zlib.crc32(user_id.encode()) % partitions


RETRY_AFTER_S = 1.0  # after the broker failed to answer, answers go out without waiting this long
RETRY_PAUSE_S = 0.005  # between two asks within one answer's budget


class ReadYourWrites:
    def __init__(
        self,
        settings: Settings,
        recent: RecentEvents,
        budget_s: float,
        counted: Callable[[Settled], None] = lambda _: None,
    ):
        """``counted``: told how each wait ended (the API's metric)."""
        self.recent, self.budget_s, self.counted = recent, budget_s, counted
        self.topic = TopicCatalog.load(settings.topics_file, settings.topic_prefix).name("interactions")
        # no subscription and no fetches: its broker connection answers ListOffsets at once
        self._consumer = Consumer(consumer_config(settings, f"streamrec-api-ends-{uuid.uuid4().hex[:12]}"))
        self._partitions = 0
        self._unavailable_until = 0.0  # monotonic time; a broker outage costs one budget a second, not one per answer

    def settle(self, user_id: str) -> Settled:
        """Wait until the tail holds the user's acknowledged events, or the budget is spent."""
        outcome = self._settle(user_id)
        self.counted(outcome)
        return outcome

    def _settle(self, user_id: str) -> Settled:
        began = time.monotonic()
        if began < self._unavailable_until:
            return Settled.SKIPPED
        deadline = began + self.budget_s
        while True:
            try:
                partition = partition_of(user_id, self._partition_count(deadline))
                _, end = self._consumer.get_watermark_offsets(
                    TopicPartition(self.topic, partition), timeout=max(deadline - time.monotonic(), 0.001), cached=False
                )
                break
            except (KafkaException, RuntimeError) as error:  # a moving leader passes; RuntimeError: closed at shutdown
                if time.monotonic() + RETRY_PAUSE_S >= deadline:
                    log.warning(
                        "read your writes: the broker did not answer (%s); not waiting for %.0f s", error, RETRY_AFTER_S
                    )
                    self._unavailable_until = time.monotonic() + RETRY_AFTER_S
                    return Settled.UNAVAILABLE
                time.sleep(RETRY_PAUSE_S)
        left = deadline - time.monotonic()
        return Settled.CAUGHT_UP if self.recent.wait_applied(partition, end, max(left, 0.0)) else Settled.TIMED_OUT

    def _partition_count(self, deadline: float) -> int:
        if not self._partitions:
            metadata = self._consumer.list_topics(self.topic, timeout=max(deadline - time.monotonic(), 0.001))
            count = len(metadata.topics[self.topic].partitions)
            if not count:
                raise KafkaException(f"topic {self.topic} has no partitions")
            self._partitions = count
        return self._partitions

    def close(self) -> None:
        self._consumer.close()
