"""The full seen-set: every item a user interacted with, for ``exclude_seen`` (the history the
model reads holds only the last 20). One sorted set per user, scored by event time, bounded to
the newest ``cap`` items.

Exactly-once without bookkeeping: ``ZADD GT`` keeps each item's latest time and the trim keeps
the newest ``cap``, so the set is a function of the events alone -- a replay, a re-delivery or
events out of order leave it as it was. Serving reads it in one round trip and degrades to the
recent history when Redis cannot answer (None).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from streams.stores.keys import RedisKeys
from streams.stores.redis_client import RedisUnavailable

DEFAULT_CAP = 500


@dataclass(frozen=True)
class SeenSet:
    """A user's seen items and the time of the newest event among them (0 when none): a ranking
    computed before that time is out of date."""

    items: frozenset[str]
    latest: float = 0.0


class SeenItems:
    def __init__(self, client, prefix: str = "", cap: int = DEFAULT_CAP):
        self.client, self.cap, self.prefix = client, cap, RedisKeys(prefix).seen_items

    @classmethod
    def for_settings(cls, settings) -> SeenItems:
        from streams.stores.redis_client import open_redis

        return cls(open_redis(settings, timeout_s=0.5), settings.topic_prefix, settings.seen_items_cap)

    def add(self, events: Iterable[tuple[str, str, float]]) -> None:
        """(user id, item id, event time in epoch seconds) of applied or re-applied events."""
        by_user: dict[str, dict[str, float]] = defaultdict(dict)
        for user, item, ts in events:
            latest = by_user[user]
            latest[item] = max(ts, latest.get(item, ts))
        if not by_user:
            return
        pipe = self.client.pipeline(transaction=False)
        for user, items in by_user.items():
            key = self.prefix + user
            pipe.zadd(key, items, gt=True)
            pipe.zremrangebyrank(key, 0, -(self.cap + 1))  # keep the newest cap
        pipe.execute()

    def of(self, user_id: str) -> set[str] | None:
        """The user's seen items; None when Redis cannot answer."""
        found = self.read(user_id)
        return set(found.items) if found is not None else None

    def read(self, user_id: str) -> SeenSet | None:
        """The user's seen items and newest event time, in one round trip; None when Redis cannot answer."""
        try:
            pairs = self.client.zrange(self.prefix + user_id, 0, -1, withscores=True)
        except RedisUnavailable:
            return None
        return SeenSet(frozenset(item.decode() for item, _ in pairs), max((s for _, s in pairs), default=0.0))

    def bytes_of(self, user_id: str) -> int:
        """Redis memory of one user's set (``MEMORY USAGE``), for the figures."""
        return int(self.client.memory_usage(self.prefix + user_id) or 0)
