"""Parameters shared by processes that learn from different events, synced by exchanging
changes (a parameter server's semantics, without the server): each process publishes what it
changed itself since its last sync, for the keys it touched, and adds each other process's
changes once. Summing keeps every event's update exactly once (averaging whole models would
halve each process's steps); ``share`` < 1 averages instead, where that learns better.

>>> a, b = DeltaSync(), DeltaSync()
>>> wa, wb = {"x": 0.0}, {"x": 0.0}
>>> wa["x"] += 0.3; wb["x"] += 0.5; wb["y"] = 0.2   # each learns from its own events
>>> from_a, from_b = a.take_changes(wa, {"x"}), b.take_changes(wb, {"x", "y"})
>>> a.apply(wa, from_b, "b"); b.apply(wb, from_a, "a")
>>> wa == wb == {"x": 0.8, "y": 0.2}
True
>>> a.catch_up(wa, b.own, "b"); wa["x"]   # a total that holds nothing new adds nothing
0.8
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, MutableMapping
from typing import Any

import numpy as np


def _copy(value):
    return value.copy() if hasattr(value, "copy") else value


def _zero(key: str) -> float:
    return 0.0


class DeltaSync:
    def __init__(self):
        self.base: dict[str, Any] = {}  # each key's value as this process last synced it
        self.own: dict[str, Any] = {}  # this process's own changes, summed since it started
        self.applied: dict[str, dict[str, Any]] = {}  # per other process: its changes added here, summed

    def take_changes(
        self, values: MutableMapping[str, Any], dirty: Iterable[str], origin: Callable[[str], Any] = _zero
    ) -> dict[str, Any]:
        """This process's changes to the ``dirty`` keys since it last synced them (to publish).
        ``origin(key)``: a key's value before anything was learned (0, or its random init)."""
        keys = [key for key in dirty if key in values]
        if keys and isinstance(values[keys[0]], np.ndarray):
            return self._take_rows(values, keys, origin)
        out = {}
        for key in keys:
            value = values[key]
            change = value - (self.base[key] if key in self.base else origin(key))
            out[key] = change
            self.own[key] = self.own[key] + change if key in self.own else _copy(change)
            self.base[key] = _copy(value)
        return out

    def apply(
        self,
        values: MutableMapping[str, Any],
        changes: dict[str, Any],
        member: str,
        origin: Callable[[str], Any] = _zero,
        share: float = 1.0,
    ) -> None:
        """Add another process's changes (``share`` of them) to ``values``, in place."""
        applied = self.applied.setdefault(member, {})
        if changes and isinstance(next(iter(changes.values())), np.ndarray):
            self._apply_rows(values, changes, applied, origin, share)
            return
        for key, change in changes.items():
            value = (values[key] if key in values else origin(key)) + change * share
            values[key] = value
            self.base[key] = _copy(value)
            applied[key] = applied[key] + change if key in applied else _copy(change)

    # Tables of vectors (latent factors): the same arithmetic on all keys at once. Per key, five
    # small numpy operations cost more than the sync's whole share of a scale-out learner's CPU.
    def _take_rows(self, values, keys: list[str], origin) -> dict[str, Any]:
        now = np.stack([values[k] for k in keys])  # a copy: later in-place steps do not reach it
        change = now - np.stack([self.base[k] if k in self.base else origin(k) for k in keys])
        zero = np.zeros_like(change[0])
        own = np.stack([self.own.get(k, zero) for k in keys]) + change
        for n, key in enumerate(keys):
            self.own[key], self.base[key] = own[n], now[n]
        return dict(zip(keys, change, strict=True))

    def _apply_rows(self, values, changes: dict[str, Any], applied: dict[str, Any], origin, share: float) -> None:
        keys = list(changes)
        moved = np.stack([changes[k] for k in keys])
        new = np.stack([values[k] if k in values else origin(k) for k in keys]) + moved * share
        base = new.copy()  # ``values`` rows change in place as the model learns; the base must not
        zero = np.zeros_like(moved[0])
        done = np.stack([applied.get(k, zero) for k in keys]) + moved
        for n, key in enumerate(keys):
            values[key], self.base[key], applied[key] = new[n], base[n], done[n]

    def catch_up(
        self,
        values: MutableMapping[str, Any],
        total: dict[str, Any],
        member: str,
        origin: Callable[[str], Any] = _zero,
        share: float = 1.0,
    ) -> None:
        """Add what ``member``'s ``total`` (all its own changes) holds beyond what was added here
        (a process that starts after it, or whose next changes were already compacted away)."""
        applied = self.applied.get(member, {})
        missing = {k: v - applied[k] if k in applied else v for k, v in total.items()}
        self.apply(values, missing, member, origin, share)
