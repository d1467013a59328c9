"""Sliding event-time windows as bucketed counters.

A window of length ``W`` with buckets of ``B`` seconds counts the events whose bucket lies in
the last ``W / B`` buckets up to the *reference time* (the latest event time seen for the
key). Buckets make the state small and the result exact and reproducible offline.

>>> w = WINDOWS["1h"]
>>> counts = {}
>>> add(counts, w, ts=1000.0)
>>> add(counts, w, ts=1000.0 + 3000)
>>> window_total(counts, w, reference=1000.0 + 3000)
2
>>> window_total(counts, w, reference=1000.0 + 7200)    # two hours later: both expired
0
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property


@dataclass(frozen=True)
class Window:
    name: str
    length_s: int
    bucket_s: int

    @cached_property
    def buckets(self) -> int:
        return self.length_s // self.bucket_s

    def bucket(self, ts: float) -> int:
        return int(ts // self.bucket_s)

    def oldest_bucket(self, reference: float) -> int:
        """The first bucket still inside the window ending at ``reference``."""
        return self.bucket(reference) - self.buckets + 1


WINDOWS: dict[str, Window] = {
    "1h": Window("1h", 3_600, 300),
    "24h": Window("24h", 86_400, 3_600),
    "7d": Window("7d", 604_800, 86_400),
}


def add(counts: dict[int, int], window: Window, ts: float, n: int = 1) -> None:
    """Count ``n`` events at event time ``ts`` (string-free int keys; JSON turns them to str)."""
    b = window.bucket(ts)
    counts[b] = counts.get(b, 0) + n


def prune(counts: dict[int, int], window: Window, reference: float) -> None:
    """Drop buckets that fell out of the window (keeps the state bounded)."""
    oldest = window.oldest_bucket(reference)
    for b in [b for b in counts if b < oldest]:
        del counts[b]


def window_total(counts: dict[int, int], window: Window, reference: float) -> int:
    oldest, newest = window.oldest_bucket(reference), window.bucket(reference)
    return sum(n for b, n in counts.items() if oldest <= b <= newest)
