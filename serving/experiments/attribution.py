"""Rewards attributed in the stream: interactions that carry a ``recommendation_id`` are matched
to the served list (and so to its experiment and variant) and counted once per list; the
cold-start bandit's lists are credited once per list and item.

At-least-once: offsets are committed after Redis took the batch; a re-delivered or replayed
interaction finds the list's once-marker set and counts nothing. Invalid interactions are left to
the feature worker, which dead-letters them.
"""

from __future__ import annotations

import logging
import threading
import time

from confluent_kafka import Consumer

from serving.experiments.store import ExperimentStore
from serving.exploration import REWARDS
from streams.core.contracts import Interaction, decode
from streams.core.errors import InvalidEvent
from streams.core.settings import Settings
from streams.core.topics import TopicCatalog

log = logging.getLogger("streamrec.attribution")
_NO_RECOMMENDATION = b'"recommendation_id":null'


def attributed(values: list[bytes]) -> list[Interaction]:
    """The valid interactions that carry a recommendation id.

    >>> from streams.core.contracts import encode
    >>> e = Interaction(user_id="u", item_id="i", event_type="click", recommendation_id="r1")
    >>> [x.recommendation_id for x in attributed([encode(e), b"not json"])]
    ['r1']
    """
    found = []
    for value in values:
        if _NO_RECOMMENDATION in value:
            continue  # most events: skip the decode
        try:
            event = decode(Interaction, value)
        except InvalidEvent:
            continue
        if event.recommendation_id:
            found.append(event)
    return found


def experiment_rewards(events: list[Interaction], reward_events: dict[str, set[str]]) -> list[tuple[str, set[str]]]:
    """(recommendation id, experiments the event is a reward for); ``reward_events``: event type ->
    experiment ids that reward it."""
    return [(e.recommendation_id, reward_events[e.event_type.value]) for e in events
            if reward_events.get(e.event_type.value)]


def attribute_rewards(settings: Settings, store: ExperimentStore, stop: threading.Event,
                      idle_exit_s: float | None = None, refresh_s: float = 5.0, explorer=None) -> dict[str, int]:
    """``explorer``: the cold-start bandit (:mod:`serving.exploration`), credited per list and item."""
    catalog = TopicCatalog.load(settings.topics_file, settings.topic_prefix)
    consumer = Consumer(settings.kafka_client_config() | {
        "group.id": f"{settings.worker_group}-attribution", "enable.auto.commit": False,
        "auto.offset.reset": "earliest"})
    assigned = threading.Event()
    consumer.subscribe([catalog.name("interactions")], on_assign=lambda *_: assigned.set())
    counts = {"events": 0, "rewards": 0, "conversions": 0, "explore_rewards": 0}
    reward_events: dict[str, set[str]] = {}
    refreshed, last = -1e18, time.monotonic()
    try:
        while not stop.is_set():
            batch = [m for m in consumer.consume(num_messages=1000, timeout=0.2) if m.error() is None]
            if not batch:
                if not assigned.is_set():
                    last = time.monotonic()
                elif idle_exit_s is not None and time.monotonic() - last > idle_exit_s:
                    break
                continue
            last = time.monotonic()
            rewards, taken = [], False
            while not stop.is_set():  # Redis must take the batch before the offsets move on
                try:
                    if time.monotonic() - refreshed > refresh_s:
                        reward_events = {}
                        for experiment in store.all():
                            for kind in experiment.reward_events:
                                reward_events.setdefault(kind.value, set()).add(experiment.experiment_id)
                        refreshed = time.monotonic()
                    events = attributed([m.value() or b"" for m in batch])
                    rewards = experiment_rewards(events, reward_events)
                    counts["conversions"] += store.attribute(rewards)
                    if explorer is not None:
                        counts["explore_rewards"] += explorer.attribute(
                            [(e.recommendation_id, e.item_id) for e in events if e.event_type.value in REWARDS])
                    taken = True
                    break
                except Exception as error:  # noqa: BLE001 -- Redis down: retry the same batch
                    log.warning("attribution waits for Redis: %s", error)
                    stop.wait(1.0)
            if not taken:
                break  # stopped before Redis took it: uncommitted, so it is read again
            counts["events"] += len(batch)
            counts["rewards"] += len(rewards)
            consumer.commit(asynchronous=False)
    finally:
        consumer.close()
    return counts
