"""Exploration for users with no history: Thompson sampling over the model's cold-start list.

Each candidate item (the model's top ``candidates`` for an empty history) has a Beta posterior
on "a list showing it gets it clicked", per context (e.g. ``device=mobile``). The prior mean
follows the model's order, worth ``strength`` pseudo-impressions, scaled to the context's observed
click rate; feedback (impressions at serve time, rewards attributed from the interaction stream
once per list and item) moves items up or down. Until a first reward comes back in a context,
only a fading share of lists is sampled and the rest keep the model's order
(:func:`models.bandits.exploration_share`): where rewards never come back, the answer is the
model's own cold-start list, not a cycle through its candidates.

The sampling itself is :func:`models.bandits.thompson_rank`.

>>> context_key({"device": "mobile"}, ["device"])
'device=mobile'
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence

import numpy as np

from models.bandits import calibrated_top, exploration_share, thompson_rank
from streams.core import events
from streams.stores.count_once import CountOnce
from streams.stores.keys import RedisKeys

log = logging.getLogger("streamrec.exploration")
REWARDS = events.positive_names()  # the event types that count as engagement everywhere


def context_key(context: Mapping[str, object], features: Sequence[str]) -> str:
    """The bandit's context bucket.

    >>> context_key({"device": "mobile", "city": "x"}, ["device"])
    'device=mobile'
    """
    parts = [f"{f}={context[f]}" for f in features if f in context]
    return ",".join(parts) or "all"


class ColdStartExplorer:
    """The Redis edge: counts per context (cached ``refresh_s``), impressions, attribution."""

    def __init__(
        self,
        client,
        prefix: str = "",
        features: Sequence[str] = ("device",),
        candidates: int = 100,
        strength: float = 20.0,
        ttl_s: int = 7 * 24 * 3600,
        refresh_s: float = 1.0,
        seed: int | None = None,
        max_contexts: int = 1000,
        share: float = 0.1,
    ):
        """``max_contexts``: contexts the bandit learns apart (clients choose context values, so
        their number is capped); requests in any further context share the ``all`` posterior.
        ``share``: the share of lists sampled before any reward has come back in a context
        (:func:`models.bandits.exploration_share`); the others keep the model's order."""
        self.client, self.features, self.candidates, self.strength = client, list(features), candidates, strength
        self.share = share
        self.ttl, self.refresh_s = ttl_s, refresh_s
        keys = RedisKeys(prefix)
        self.counts_prefix, self.rec_prefix, self.conv_prefix = keys.cold_counts, keys.cold_list, keys.cold_converted
        self._count_once = CountOnce(client)
        self.contexts_key, self.max_contexts = keys.cold_contexts, max_contexts
        self._cache: OrderedDict[str, tuple[float, dict[str, tuple[int, int]]]] = OrderedDict()  # LRU
        self._admitted: OrderedDict[str, bool] = OrderedDict()  # LRU of context keys known to Redis
        self._rng, self._lock = np.random.default_rng(seed), threading.Lock()

    @classmethod
    def for_settings(cls, settings) -> ColdStartExplorer:
        from streams.stores.redis_client import open_redis

        return cls(
            open_redis(settings, timeout_s=0.5),
            settings.topic_prefix,
            settings.serve_explore_context,
            settings.serve_explore_candidates,
            ttl_s=settings.serve_impression_ttl_s,
        )

    def _admit(self, key: str) -> str:
        """``key`` if it is one of the (at most ``max_contexts``) contexts learned apart, else ``all``."""
        if key == "all" or key in self._admitted:
            return key
        admitted = bool(self.client.sismember(self.contexts_key, key))
        if not admitted and self.client.scard(self.contexts_key) < self.max_contexts:
            self.client.sadd(self.contexts_key, key)  # racing replicas may overshoot by a few
            admitted = True
        if not admitted:
            return "all"
        self._admitted[key] = True
        if len(self._admitted) > self.max_contexts:
            self._admitted.popitem(last=False)
        return key

    def _counts(self, key: str) -> dict[str, tuple[int, int]]:
        at, counts = self._cache.get(key, (-1e18, {}))
        if time.monotonic() - at < self.refresh_s:
            return counts
        fields: dict[str, list[int]] = {}
        for field, value in self.client.hgetall(self.counts_prefix + key).items():
            item, _, kind = field.decode().rpartition("|")
            fields.setdefault(item, [0, 0])[kind == "c"] = int(value)
        counts = {item: (v[0], v[1]) for item, v in fields.items()}
        self._cache[key] = (time.monotonic(), counts)
        self._cache.move_to_end(key)
        if len(self._cache) > self.max_contexts:
            self._cache.popitem(last=False)
        return counts

    def rank(
        self, model, context: Mapping[str, object], k: int, banned: set[str]
    ) -> tuple[str, list[tuple[str, float]]]:
        """(context key, the top ``k``) for a user with no history. Raises when Redis is down."""
        key = self._admit(context_key(context, self.features))
        ranked = [(i, s) for i, s in model.recommend([], self.candidates) if i not in banned]
        counts = self._counts(key)
        impressions = sum(shown for shown, _ in counts.values())
        conversions = sum(converted for _, converted in counts.values())
        with self._lock:
            if self._rng.random() >= exploration_share(impressions, conversions, self.share):
                return key, ranked[:k]  # the model's own order
            top = calibrated_top(impressions, conversions)
            return key, thompson_rank([i for i, _ in ranked], counts, k, self._rng, self.strength, top)

    def record(self, recommendation_id: str, key: str, items: Sequence[str]) -> None:
        pipe = self.client.pipeline(transaction=False)
        pipe.set(self.rec_prefix + recommendation_id, key, ex=self.ttl)
        for item in items:
            pipe.hincrby(self.counts_prefix + key, f"{item}|i", 1)
        pipe.expire(self.counts_prefix + key, self.ttl)  # a context nobody asks for fades away
        pipe.expire(self.contexts_key, self.ttl)
        pipe.execute()

    def attribute(self, rewards: Sequence[tuple[str, str]]) -> int:
        """(recommendation id, item id) of reward events; each pair counts once."""
        if not rewards:
            return 0
        contexts = self.client.mget([self.rec_prefix + rec_id for rec_id, _ in rewards])
        pipe = self.client.pipeline(transaction=False)
        for (rec_id, item), context in zip(rewards, contexts, strict=True):
            if context is not None:  # a list the bandit chose
                self._count_once.add(
                    pipe,
                    f"{self.conv_prefix}{rec_id}:{item}",
                    self.ttl,
                    self.counts_prefix + context.decode(),
                    f"{item}|c",
                )
        return int(sum(pipe.execute()))
