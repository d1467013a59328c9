"""Parameters shared by processes that learn from different events, synced by summing changes
(a parameter server's semantics, without the server): each process publishes the sum of every
change it made itself, and adds each other process's new changes once. Averaging instead would
halve every process's steps with two processes; summing keeps each event's update exactly once.

>>> a, b = DeltaSync(), DeltaSync()
>>> wa, wb = {"x": 0.0}, {"x": 0.0}
>>> wa["x"] += 0.3; wb["x"] += 0.5; wb["y"] = 0.2   # each learns from its own events
>>> a_sums = a.sync(wa, {}); b_sums = b.sync(wb, {"a": a_sums})
>>> _ = a.sync(wa, {"b": b_sums})
>>> wa == wb == {"x": 0.8, "y": 0.2}
True
>>> _ = a.sync(wa, {"b": b_sums}); wa["x"]   # what was added once is not added again
0.8
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import Any


def _copy(value):
    return value.copy() if hasattr(value, "copy") else value


class DeltaSync:
    def __init__(self):
        self.base: dict[str, Any] = {}  # each key's value right after the last sync
        self.own: dict[str, Any] = {}  # this process's changes, summed since it started
        self.applied: dict[str, dict[str, Any]] = {}  # per other process: its sums as last added here

    def sync(
        self,
        values: MutableMapping[str, Any],
        others: dict[str, dict[str, Any]],
        origin: Callable[[str], Any] = lambda key: 0.0,
        share: float = 1.0,
    ) -> dict[str, Any]:
        """Fold this process's changes since the last sync into its sums, add the others' new
        changes to ``values`` (in place), and return this process's sums (to publish).
        ``origin(key)``: a key's value before anything was learned (0, or its random init).
        ``share``: the part of the others' changes added (1: all; 1/n: an average of n processes)."""
        for key in list(values):
            start = self.base[key] if key in self.base else origin(key)
            change = values[key] - start
            self.own[key] = self.own[key] + change if key in self.own else _copy(change)
        for member, sums in others.items():
            seen = self.applied.setdefault(member, {})
            for key, total in sums.items():
                delta = (total - seen[key] if key in seen else total) * share
                values[key] = values[key] + delta if key in values else origin(key) + delta
                seen[key] = _copy(total)
        self.base = {key: _copy(values[key]) for key in list(values)}
        return {key: _copy(value) for key, value in self.own.items()}
