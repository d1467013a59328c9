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

from serving.experiments.store import ExperimentStore
from serving.exploration import REWARDS
from streams.core.contracts import Interaction, decode
from streams.core.errors import InvalidEvent
from streams.core.settings import Settings
from streams.core.topics import TopicCatalog
from streams.kafka.runner import Batch, ConsumeRunner
from streams.stores.redis_client import RedisUnavailable

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
    return [
        (e.recommendation_id, reward_events[e.event_type.value])
        for e in events
        if reward_events.get(e.event_type.value)
    ]


def attribute_rewards(
    settings: Settings,
    store: ExperimentStore,
    stop: threading.Event,
    idle_exit_s: float | None = None,
    refresh_s: float = 5.0,
    explorer=None,
) -> dict[str, int]:
    """``explorer``: the cold-start bandit (:mod:`serving.exploration`), credited per list and item."""
    catalog = TopicCatalog.load(settings.topics_file, settings.topic_prefix)
    runner = ConsumeRunner(
        settings, group=f"{settings.worker_group}-attribution", topics=[catalog.name("interactions")]
    )  # values decoded below: most are skipped unread
    counts = {"events": 0, "rewards": 0, "conversions": 0, "explore_rewards": 0}
    reward_events: dict[str, set[str]] = {}
    refreshed = -1e18

    def handle(batch: Batch) -> bool:
        nonlocal reward_events, refreshed
        while not stop.is_set():  # Redis must take the batch before the offsets move on
            try:
                if time.monotonic() - refreshed > refresh_s:
                    reward_events = {}
                    for experiment in store.all():
                        for kind in experiment.reward_events:
                            reward_events.setdefault(kind.value, set()).add(experiment.experiment_id)
                    refreshed = time.monotonic()
                events = attributed([r.value or b"" for r in batch.records])
                rewards = experiment_rewards(events, reward_events)
                counts["conversions"] += store.attribute(rewards)
                if explorer is not None:
                    counts["explore_rewards"] += explorer.attribute(
                        [(e.recommendation_id, e.item_id) for e in events if e.event_type.value in REWARDS]
                    )
                counts["events"] += len(batch)
                counts["rewards"] += len(rewards)
                return False
            except RedisUnavailable as error:
                log.warning("attribution waits for Redis: %s", error)
                stop.wait(1.0)
        raise Stopped  # stopped before Redis took it: uncommitted, so it is read again

    try:
        runner.run(handle, stop, idle_exit_s)
    except Stopped:
        pass
    return counts


class Stopped(Exception):
    """Stop was asked while a batch waited for Redis."""
