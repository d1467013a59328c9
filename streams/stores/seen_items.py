"""The full seen-set: every item a user interacted with, for ``exclude_seen`` (the history the
model reads holds only the last 20). One sorted set per user, scored by event time, bounded to
the newest ``cap`` items (5,000 by default).

Serving reads the newest ``READ_NEWEST`` (500) in one round trip and excludes them up front.
Users with more (a few heavy raters, who ask most often) get the rest checked after ranking:
:meth:`SeenItems.among` asks the set about the items about to be served only (``ZMSCORE``), so
a request costs the same whatever the size of the set.

Scores are event times in whole milliseconds: Redis stores an integer score in 9 bytes of a
compact (listpack) set, a fractional one as its 17-character text. (Sets written with seconds
before this change read as very old until their items are seen again; that only widens what the
API adds from the stream tail.)

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

DEFAULT_CAP = 5_000
READ_NEWEST = 500  # read whole per request; beyond it, only the items about to be served are checked


@dataclass(frozen=True)
class SeenSet:
    """A user's seen items and the time of the newest event among them (0 when none): a ranking
    computed before that time is out of date."""

    items: frozenset[str]
    latest: float = 0.0
    total: int | None = None  # items in the whole set, when more than ``items`` holds

    @property
    def partial(self) -> bool:
        """Older seen items exist beyond ``items``: check the served list with :meth:`SeenItems.among`."""
        return self.total is not None and self.total > len(self.items)


class SeenItems:
    def __init__(self, client, prefix: str = "", cap: int = DEFAULT_CAP):
        self.client, self.cap, self.prefix = client, cap, RedisKeys(prefix).seen_items

    @classmethod
    def for_settings(cls, settings) -> SeenItems:
        from streams.stores.redis_client import open_redis

        return cls(
            open_redis(settings, timeout_s=settings.serve_store_timeout_s),
            settings.topic_prefix,
            settings.seen_items_cap,
        )

    def add(self, events: Iterable[tuple[str, str, float]]) -> None:
        """(user id, item id, event time in epoch seconds) of applied or re-applied events."""
        by_user: dict[str, dict[str, int]] = defaultdict(dict)
        for user, item, ts in events:
            latest, ms = by_user[user], round(ts * 1000)
            latest[item] = max(ms, latest.get(item, ms))
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
            pipe = self.client.pipeline(transaction=False)
            self.queue_read(pipe, user_id)
            replies = pipe.execute()
        except RedisUnavailable:
            return None
        return self.parse_read(replies)

    def queue_read(self, pipe, user_id: str) -> None:
        """Queue :meth:`read`'s two commands on a caller's pipeline (to share its round trip)."""
        pipe.zrange(self.prefix + user_id, -READ_NEWEST, -1, withscores=True)
        pipe.zcard(self.prefix + user_id)

    @staticmethod
    def parse_read(replies: list) -> SeenSet:
        """The two replies of :meth:`queue_read`'s commands -> the :class:`SeenSet`."""
        pairs, total = replies
        items = frozenset(item.decode() for item, _ in pairs)
        latest = max((s for _, s in pairs), default=0.0) / 1000
        return SeenSet(items, latest, total if total > len(items) else None)

    def among(self, user_id: str, items: list[str]) -> set[str] | None:
        """Which of ``items`` the user has seen (one ``ZMSCORE``); None when Redis cannot answer."""
        if not items:
            return set()
        try:
            scores = self.client.zmscore(self.prefix + user_id, items)
        except RedisUnavailable:
            return None
        return {item for item, score in zip(items, scores, strict=True) if score is not None}

    def bytes_of(self, user_id: str) -> int:
        """Redis memory of one user's set (``MEMORY USAGE``), for the figures."""
        return int(self.client.memory_usage(self.prefix + user_id) or 0)
