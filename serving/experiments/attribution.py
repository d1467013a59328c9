"""Rewards attributed in the stream: interactions that carry a ``recommendation_id`` are matched
to the served list (and so to its experiment and variant) and counted once per list.

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
from streams.contracts import Interaction, decode
from streams.errors import InvalidEvent
from streams.settings import Settings
from streams.topics import TopicCatalog

log = logging.getLogger("streamrec.attribution")
_NO_RECOMMENDATION = b'"recommendation_id":null'


def rewards_in(values: list[bytes], reward_events: dict[str, set[str]]) -> list[tuple[str, set[str]]]:
    """(recommendation id, experiments the event is a reward for) for each encoded interaction.
    ``reward_events``: event type -> experiment ids that reward it.

    >>> e = Interaction(user_id="u", item_id="i", event_type="click", recommendation_id="r1")
    >>> rewards_in([encode(e), b"not json"], {"click": {"x1"}})
    [('r1', {'x1'})]
    """
    found = []
    for value in values:
        if _NO_RECOMMENDATION in value:
            continue  # most events: skip the decode
        try:
            event = decode(Interaction, value)
        except InvalidEvent:
            continue
        experiments = reward_events.get(event.event_type.value)
        if event.recommendation_id and experiments:
            found.append((event.recommendation_id, experiments))
    return found


def attribute_rewards(settings: Settings, store: ExperimentStore, stop: threading.Event,
                      idle_exit_s: float | None = None, refresh_s: float = 5.0) -> dict[str, int]:
    catalog = TopicCatalog.load(settings.topics_file, settings.topic_prefix)
    consumer = Consumer(settings.kafka_client_config() | {
        "group.id": f"{settings.worker_group}-attribution", "enable.auto.commit": False,
        "auto.offset.reset": "earliest"})
    assigned = threading.Event()
    consumer.subscribe([catalog.name("interactions")], on_assign=lambda *_: assigned.set())
    counts = {"events": 0, "rewards": 0, "conversions": 0}
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
                    rewards = rewards_in([m.value() or b"" for m in batch], reward_events)
                    counts["conversions"] += store.attribute(rewards)
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
