"""The online features an answer is ranked with: the user's row read per request (one round
trip, which also gives the history), the candidates' item rows and categories from an
in-process cache that re-reads an item once its copy is older than ``item_ttl_s`` (the bounded
staleness of item features), in one round trip for all stale candidates (categories: after
``CATALOG_TTL_S``).

``read_rows(view, entities)`` is the store: :meth:`streams.stores.feast.FeatureReader.read`
bound to the entity key, in production; it raises when the store cannot answer.

>>> rows = {"user_features": {"u1": {"recent_items": ["a"], "top_categories": ["c1"]}},
...         "item_features": {"b": {"trending_score": 2.0}}, "item_catalog": {"b": {"category": "c1"}}}
>>> features = OnlineFeatures(lambda view, ids: {i: rows[view].get(i) for i in ids}, clock=lambda: 100.0)
>>> user = features.user("u1")
>>> user.history
['a']
>>> snap = user.lookup(["b", "a"])
>>> snap.at, dict(snap.items), dict(snap.categories)
(100.0, {'b': {'trending_score': 2.0}}, {'b': 'c1'})
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from models.batch.online_features import Snapshot

log = logging.getLogger("streamrec.serve")

ReadRows = Callable[[str, list[str]], Mapping[str, Mapping[str, Any] | None]]


@dataclass(frozen=True)
class UserView:
    """One request's read of the store: the user's row and a lookup for candidates' rows."""

    row: Mapping[str, Any] | None
    lookup: Callable[[Sequence[str]], Snapshot | None]

    @property
    def history(self) -> list[str]:
        return list((self.row or {}).get("recent_items") or [])


CATALOG_TTL_S = 60.0  # an item's category changes only with a new catalogue record


class OnlineFeatures:
    def __init__(self, read_rows: ReadRows, item_ttl_s: float = 1.0, clock: Callable[[], float] = time.time):
        self._read, self.item_ttl_s, self._clock = read_rows, item_ttl_s, clock
        self._items: dict[str, tuple[float, Mapping[str, Any] | None]] = {}  # id -> (read at, row)
        self._categories: dict[str, tuple[float, str | None]] = {}  # id -> (read at, category)
        self._lock = threading.Lock()

    @classmethod
    def for_settings(cls, settings) -> OnlineFeatures:
        from streams.stores.feast import FeatureReader, open_store
        from streams.stores.redis_client import open_redis

        deadline = open_redis(settings, timeout_s=settings.serve_store_timeout_s)
        reader = FeatureReader(open_store(settings), deadline if settings.online_store == "redis" else None)
        keys = {"user_features": "user_id", "item_features": "item_id", "item_catalog": "item_id"}
        return cls(lambda view, ids: reader.read(view, keys[view], ids), settings.serve_item_features_ttl_s)

    def user(self, user_id: str) -> UserView:
        """The user's row (None: no events yet). Raises when the store cannot answer."""
        row = self._read("user_features", [user_id]).get(user_id)
        return UserView(row, lambda items: self.snapshot(row, items))

    def snapshot(self, user_row: Mapping[str, Any] | None, items: Sequence[str]) -> Snapshot | None:
        """Item rows from the cache, stale or missing ones re-read in one call; None when the store
        cannot answer (the ranker then sees every online feature as missing)."""
        now = self._clock()
        wanted = list(dict.fromkeys(items))
        with self._lock:
            stale = [i for i in wanted if now - self._items.get(i, (-1e18,))[0] > self.item_ttl_s]
            uncategorised = [i for i in wanted if now - self._categories.get(i, (-1e18,))[0] > CATALOG_TTL_S]
        try:
            rows = self._read("item_features", stale) if stale else {}
            catalog = self._read("item_catalog", uncategorised) if uncategorised else {}
        except Exception as error:  # noqa: BLE001 -- the store is down: rank without item features
            log.warning("item features unavailable: %s", error)
            return None
        with self._lock:
            for i in stale:
                self._items[i] = (now, rows.get(i))
            for i in uncategorised:
                self._categories[i] = (now, (catalog.get(i) or {}).get("category") or None)
            found = {i: self._items[i][1] for i in wanted if i in self._items}
            categories = {i: self._categories[i][1] for i in wanted if i in self._categories}
        return Snapshot(
            at=now,
            user=user_row,
            items={i: row for i, row in found.items() if row is not None},
            categories={i: c for i, c in categories.items() if c is not None},
        )
