"""A short-TTL, size-bounded cache of ranked lists for repeated requests (same user, same
parameters, same model version). Every answer still gets its own recommendation id and is
logged; only the ranking is reused.

>>> clock = iter([0.0, 0.5, 3.0]).__next__
>>> cache = TTLCache(ttl_s=2.0, max_entries=10, clock=clock)
>>> cache.put("k", "ranked")
>>> cache.get("k"), cache.get("k")  # at 0.5 s: hit; at 3.0 s: expired
('ranked', None)
>>> cache = TTLCache(ttl_s=2.0, clock=iter([0.0, 1.0, 2.5]).__next__)
>>> cache.put("a", 1); cache.put("b", 2); cache.put("c", 3)  # at 2.5 s, "a" (put at 0.0) is dropped
>>> list(cache._entries)
['b', 'c']
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict


class TTLCache:
    def __init__(self, ttl_s: float, max_entries: int = 10_000, clock=time.monotonic):
        self.ttl_s, self.max_entries, self.clock = ttl_s, max_entries, clock
        self._entries: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        if self.ttl_s <= 0:
            return None
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            stored_at, value = found
            if self.clock() - stored_at > self.ttl_s:
                del self._entries[key]
                return None
            return value

    def put(self, key, value) -> None:
        if self.ttl_s <= 0:
            return
        with self._lock:
            now = self.clock()
            self._entries[key] = (now, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)  # the oldest
            # expired ones go too (oldest first): what the cache holds stays ~ ttl x request rate, which
            # keeps the garbage collector's generations, and its pauses, small
            while (oldest := next(iter(self._entries.values()))) and now - oldest[0] > self.ttl_s:
                self._entries.popitem(last=False)
