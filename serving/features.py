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

from models.batch.online_features import Snapshot, item_values
from streams.stores.seen_items import SeenItems, SeenSet

log = logging.getLogger("streamrec.serve")

ReadRows = Callable[[str, list[str]], Mapping[str, Mapping[str, Any] | None]]
ReadUser = Callable[[str], tuple[Mapping[str, Any] | None, SeenSet]]  # user -> (row, seen-set), one round trip


@dataclass(frozen=True)
class UserView:
    """One request's read of the store: the user's row, a lookup for candidates' rows, and the
    seen-set when it came in the same round trip (see ``read_user``)."""

    row: Mapping[str, Any] | None
    lookup: Callable[[Sequence[str]], Snapshot | None]
    seen: SeenSet | None = None

    @property
    def history(self) -> list[str]:
        return list((self.row or {}).get("recent_items") or [])


CATALOG_TTL_S = 60.0  # an item's category changes only with a new catalogue record
HOT_S = 300.0  # the refresher keeps the items asked for in the last five minutes
REFRESH_CHUNK = 64  # item rows per read of the refresher (unchanged rows are not decoded again)
REFRESH_PAUSE_S = 0.001  # between chunks: a request waiting for the GIL gets it
BEHIND = 5  # with a refresher, a request re-reads a row only past BEHIND x the TTL


class OnlineFeatures:
    def __init__(
        self,
        read_rows: ReadRows,
        item_ttl_s: float = 1.0,
        clock: Callable[[], float] = time.time,
        read_user: ReadUser | None = None,
    ):
        self._read, self.item_ttl_s, self._clock, self._read_user = read_rows, item_ttl_s, clock, read_user
        self._items: dict[str, tuple[float, Mapping[str, Any] | None, tuple]] = {}  # id -> (read at, row, values)
        self._categories: dict[str, tuple[float, str | None]] = {}  # id -> (read at, category)
        self._asked: dict[str, float] = {}  # id -> when a request last asked for it
        self._refreshing = False
        self.last_refresh_s = 0.0  # how long the latest refresh took
        self._lock = threading.Lock()

    @classmethod
    def for_settings(cls, settings, seen_items: SeenItems | None = None) -> OnlineFeatures:
        """Feast's store in production. With the Redis online store and ``seen_items``, the user's
        row and seen-set come in one pipeline (:meth:`user` gives both)."""
        from streams.stores.feast import FeatureReader, open_store
        from streams.stores.redis_client import open_redis

        redis_store = settings.online_store == "redis"
        deadline = open_redis(settings, timeout_s=settings.serve_store_timeout_s)
        reader = FeatureReader(
            open_store(settings), deadline if redis_store else None, remember=("item_features", "item_catalog")
        )
        keys = {"user_features": "user_id", "item_features": "item_id", "item_catalog": "item_id"}

        def read_user(user_id: str) -> tuple[Mapping[str, Any] | None, SeenSet]:
            pipe = deadline.pipeline(transaction=False)
            seen_items.queue_read(pipe, user_id)
            ((key, fields),) = reader.hmget("user_features", "user_id", [user_id])
            pipe.hmget(key, fields)
            *seen, row = pipe.execute()
            return reader.decode("user_features", [user_id], [row])[user_id], seen_items.parse_read(seen)

        return cls(
            lambda view, ids: reader.read(view, keys[view], ids),
            settings.serve_item_features_ttl_s,
            read_user=read_user if redis_store and seen_items is not None else None,
        )

    @property
    def reads_seen(self) -> bool:
        """Whether :meth:`user` gives the seen-set too (in the same round trip as the row)."""
        return self._read_user is not None

    def user(self, user_id: str) -> UserView:
        """The user's row (None: no events yet), and the seen-set when :attr:`reads_seen`. Raises
        when the store cannot answer."""
        if self._read_user is not None:
            row, seen = self._read_user(user_id)
        else:
            row, seen = self._read("user_features", [user_id]).get(user_id), None
        return UserView(row, lambda items: self.snapshot(row, items), seen)

    def snapshot(self, user_row: Mapping[str, Any] | None, items: Sequence[str]) -> Snapshot | None:
        """Item rows from the cache, stale or missing ones re-read in one call; None when the store
        cannot answer (the ranker then sees every online feature as missing). While :meth:`follow`
        keeps the cache fresh, a row counts as stale only past ``BEHIND`` times the TTL (the
        refresher stopped or fell behind): requests then read only items never asked for before."""
        now = self._clock()
        wanted = list(dict.fromkeys(items))
        limit = self.item_ttl_s * (BEHIND if self._refreshing else 1)
        with self._lock:
            for i in wanted:
                self._asked[i] = now
            stale = [i for i in wanted if now - self._items.get(i, (-1e18,))[0] > limit]
            uncategorised = [i for i in wanted if now - self._categories.get(i, (-1e18,))[0] > CATALOG_TTL_S]
        try:
            self._reread(stale, uncategorised, now)
        except Exception as error:  # noqa: BLE001 -- the store is down: rank without item features
            log.warning("item features unavailable: %s", error)
            return None
        with self._lock:
            found = {i: self._items[i] for i in wanted if i in self._items}
            categories = {i: self._categories[i][1] for i in wanted if i in self._categories}
        return Snapshot(
            at=now,
            user=user_row,
            items={i: row for i, (_, row, _) in found.items() if row is not None},
            categories={i: c for i, c in categories.items() if c is not None},
            item_values={i: values for i, (_, _, values) in found.items()},
        )

    def _reread(self, items: list[str], uncategorised: list[str], now: float) -> None:
        rows = self._read("item_features", items) if items else {}
        catalog = self._read("item_catalog", uncategorised) if uncategorised else {}
        with self._lock:
            for i in items:
                row, before = rows.get(i), self._items.get(i)
                values = before[2] if before is not None and before[1] is row and row is not None else item_values(row)
                self._items[i] = (now, row, values)  # the reader gives the same row object for unchanged bytes
            for i in uncategorised:
                self._categories[i] = (now, (catalog.get(i) or {}).get("category") or None)

    def refresh(self) -> int:
        """Re-read the rows of every item asked for in the last ``HOT_S`` seconds (categories once
        half their TTL has passed), in chunks of ``REFRESH_CHUNK`` with a pause between them; items
        no longer asked for are forgotten. Returns how many rows were read. Raises when the store
        cannot answer."""
        now = self._clock()
        with self._lock:
            for i in [i for i, at in self._asked.items() if now - at > HOT_S]:
                del self._asked[i]
                self._items.pop(i, None)
                self._categories.pop(i, None)
            hot = list(self._asked)
            aged = {i for i in hot if now - self._categories.get(i, (-1e18,))[0] > CATALOG_TTL_S / 2}
        for start in range(0, len(hot), REFRESH_CHUNK):
            chunk = hot[start : start + REFRESH_CHUNK]
            self._reread(chunk, [i for i in chunk if i in aged], now)
            time.sleep(REFRESH_PAUSE_S)
        return len(hot)

    def follow(self, stop: threading.Event) -> None:
        """Keep the cached item rows fresh until ``stop``: :meth:`refresh` every ``item_ttl_s``, so
        a served row is at most ``item_ttl_s`` plus one refresh old, and requests do not wait for
        item reads. Store outages are logged and retried on the next round."""
        self._refreshing = True
        try:
            while not stop.wait(self.item_ttl_s):
                began = time.perf_counter()
                try:
                    self.refresh()
                except Exception as error:  # noqa: BLE001 -- retried next round; requests re-read past BEHIND
                    log.warning("item features not refreshed: %s", error)
                self.last_refresh_s = time.perf_counter() - began
        finally:
            self._refreshing = False
