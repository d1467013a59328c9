"""What the user did in the last seconds, read by the API straight from the ``interactions`` topic.

The worker takes a few hundred milliseconds (more under load) to fold an event into the online
store; the broker hands it to a tailing consumer within tens of milliseconds. So the API follows
the topic itself (from its end, no commits, every replica on its own) and keeps each user's
newest events for ``horizon_s``. An answer adds those the store does not hold yet (newer than the
store's newest event for the user) to the history and to the seen items: a user whose first
events are still in flight is not treated as new, and an item rated a moment ago is not served
back. Memory is bounded: ``per_user`` events for at most ``max_users`` users (least recently
active dropped first), each forgotten after ``horizon_s``.

It also knows how far it has read each partition (``applied``), so an answer can wait until it
holds every event the broker had acknowledged when the request came
(:mod:`serving.read_your_writes`).

>>> recent = RecentEvents(horizon_s=30, clock=lambda: 100.0)
>>> recent.add([("u1", "a", 90.0, "e1"), ("u1", "b", 95.0, "e2"), ("u1", "b", 95.0, "e2")])
>>> recent.since("u1", after=92.0), recent.since("u1", after=0.0), recent.since("u2", after=0.0)
(['b'], ['a', 'b'], [])
>>> recent.newest("u1")
95.0
>>> recent.add([], {0: 7}); recent.wait_applied(0, 7, timeout_s=0.0), recent.wait_applied(0, 8, timeout_s=0.0)
(True, False)
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime

from confluent_kafka import TopicPartition

from serving.fusion_judge import FusionJudge
from streams.core.popular_now import PopularNow
from streams.core.settings import Settings
from streams.core.topics import TopicCatalog
from streams.kafka.readers import end_offsets
from streams.kafka.runner import Batch, ConsumeRunner

log = logging.getLogger("streamrec.serve")

Event = tuple[str, str, float, str]  # user id, item id, event time (epoch s), event id


class RecentEvents:
    def __init__(
        self,
        horizon_s: float = 30.0,
        per_user: int = 500,
        max_users: int = 20_000,
        clock: Callable[[], float] = time.time,
    ):
        self.horizon_s, self.per_user, self.max_users, self.clock = horizon_s, per_user, max_users, clock
        # user -> event id -> (event time, item), oldest first: a re-sent copy is one lookup
        self._users: OrderedDict[str, dict[str, tuple[float, str]]] = OrderedDict()
        self._applied: dict[int, int] = {}  # partition -> the next offset to read (all before it are held)
        self._lock = threading.Lock()
        self._moved = threading.Condition(self._lock)

    def add(self, events: Iterable[Event], applied: Mapping[int, int] | None = None) -> None:
        """Hold ``events``; ``applied``: per partition, the offset read up to (these events included)."""
        with self._lock:
            for user, item, at, event_id in events:
                kept = self._users.get(user)
                if kept is None:
                    kept = self._users[user] = {}
                    if len(self._users) > self.max_users:
                        self._users.popitem(last=False)
                elif event_id in kept:
                    continue  # a re-sent copy
                kept[event_id] = (at, item)
                if len(kept) > self.per_user:
                    del kept[next(iter(kept))]
                self._users.move_to_end(user)
            if applied:
                for partition, offset in applied.items():
                    self._applied[partition] = max(offset, self._applied.get(partition, 0))
                self._moved.notify_all()

    def wait_applied(self, partition: int, offset: int, timeout_s: float) -> bool:
        """Wait, at most ``timeout_s``, until every event of ``partition`` before ``offset`` is held."""
        with self._moved:
            return self._moved.wait_for(lambda: self._applied.get(partition, -1) >= offset, timeout=timeout_s)

    def since(self, user: str, after: float) -> list[str]:
        """Items of the user's events newer than ``after`` and than the horizon, oldest first."""
        floor = max(after, self.clock() - self.horizon_s)
        with self._lock:
            kept = self._users.get(user)
            return [item for at, item in sorted(kept.values()) if at > floor] if kept else []

    def newest(self, user: str) -> float | None:
        with self._lock:
            kept = self._users.get(user)
            return max(at for at, _ in kept.values()) if kept else None

    def __len__(self) -> int:
        return len(self._users)


def interaction_fields(value: bytes) -> Event | None:
    """(user, item, event time, event id) of an interaction record; None for anything else (the
    worker dead-letters invalid records; here they are only skipped).

    >>> interaction_fields(b'{"event_id": "e", "user_id": "u", "item_id": "i", "timestamp": "2026-01-01T00:00:00Z"}')
    ('u', 'i', 1767225600.0, 'e')
    >>> interaction_fields(b"not json") is None
    True
    """
    try:
        data = json.loads(value)
        user, item, event_id = data["user_id"], data["item_id"], data["event_id"]
        at = datetime.fromisoformat(data["timestamp"]).timestamp()
    except (ValueError, TypeError, KeyError):
        return None
    if not (isinstance(user, str) and isinstance(item, str) and isinstance(event_id, str)):
        return None
    return user, item, at, event_id


def follow_interactions(
    settings: Settings,
    recent: RecentEvents,
    stop: threading.Event,
    popular: PopularNow | None = None,
    judge: FusionJudge | None = None,
) -> None:
    """Tail ``interactions`` into ``recent`` (and ``popular``) until ``stop`` (a background
    thread). No group: every replica reads every event. ``recent`` is told from the start that
    everything before the end offsets is held (those events are the store's); with ``popular``,
    the tail starts ``popular.window`` events back (spread over the partitions), so that what is
    popular right now is known from the first answer after a restart. ``judge`` learns from each
    user's next interaction after an answer."""
    topic = TopicCatalog.load(settings.topics_file, settings.topic_prefix).name("interactions")
    ends = end_offsets(settings, topic, retry_s=60.0)
    recent.add([], ends)
    back = -(-popular.window // max(len(ends), 1)) if popular is not None else 0
    runner = ConsumeRunner(
        settings,
        group=f"streamrec-api-tail-{uuid.uuid4().hex[:12]}",
        assignment=[TopicPartition(topic, p, max(offset - back, 0)) for p, offset in ends.items()],
        commit="none",
        poll_timeout_s=0.005,  # a poll returns what arrived within 5 ms: batches wait for nobody
        config={"fetch.wait.max.ms": 5, "fetch.min.bytes": 1},
    )

    def fields(batch: Batch) -> list[Event]:
        return [e for r in batch.records if r.value and (e := interaction_fields(r.value)) is not None]

    idle = (lambda: popular.add(())) if popular is not None else None  # its ranking catches up after the last event
    for batch in runner.batches(stop, on_idle=idle):
        events = fields(batch)
        recent.add(events, {partition: offset for (_, partition), offset in batch.positions.items()})
        if popular is not None:
            popular.add((event_id, item) for _, item, _, event_id in events)
        if judge is not None:
            judge.observe((user, item) for user, item, _, _ in events)
