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

from models.learners.row_table import RowTable


def _zero(key: str) -> float:
    return 0.0


class DeltaSync:
    def __init__(self):
        self.base: dict[str, Any] = {}  # each key's value as this process last synced it
        self.own: dict[str, Any] = {}  # this process's own changes, summed since it started
        self.applied: dict[str, dict[str, Any]] = {}  # per other process: its changes added here, summed

    def take_changes(
        self, values: MutableMapping[str, Any], dirty: Iterable[str], origin: Callable[[str], Any] = _zero
    ) -> dict[str, Any] | RowTable:
        """This process's changes to the ``dirty`` keys since it last synced them (to publish).
        ``origin(key)``: a key's value before anything was learned (0, or its random init)."""
        keys = [key for key in dirty if key in values]
        if isinstance(values, RowTable):
            return self._take_rows(values, keys, origin)
        out = {}
        for key in keys:
            value = values[key]
            change = value - (self.base[key] if key in self.base else origin(key))
            out[key] = change
            self.own[key] = self.own[key] + change if key in self.own else change
            self.base[key] = value
        return out

    def apply(
        self,
        values: MutableMapping[str, Any],
        changes: dict[str, Any] | RowTable,
        member: str,
        origin: Callable[[str], Any] = _zero,
        share: float = 1.0,
    ) -> None:
        """Add another process's changes (``share`` of them) to ``values``, in place."""
        if isinstance(values, RowTable):
            self._apply_rows(values, changes, member, origin, share)
            return
        applied = self.applied.setdefault(member, {})
        for key, change in changes.items():
            value = (values[key] if key in values else origin(key)) + change * share
            values[key] = value
            self.base[key] = value
            applied[key] = applied[key] + change if key in applied else change

    def catch_up(
        self,
        values: MutableMapping[str, Any],
        total: dict[str, Any] | RowTable,
        member: str,
        origin: Callable[[str], Any] = _zero,
        share: float = 1.0,
    ) -> None:
        """Add what ``member``'s ``total`` (all its own changes) holds beyond what was added here
        (a process that starts after it, or whose next changes were already compacted away)."""
        applied = self.applied.get(member, {})
        if isinstance(total, RowTable):
            keys = list(total)
            done = applied.take(keys, missing=lambda key: np.zeros(total.width)) if applied else 0.0
            missing = RowTable.of(keys, total.take(keys) - done)
        else:
            missing = {k: v - applied[k] if k in applied else v for k, v in total.items()}
        self.apply(values, missing, member, origin, share)

    # Tables of vectors (latent factors), in RowTables: the same arithmetic on all keys at once.
    # Per key, five small numpy operations cost more than a scale-out learner's learning.
    def _hold_rows(self, width: int) -> None:
        if not isinstance(self.base, RowTable):  # a table of vectors: its base and own sums are too
            self.base, self.own = RowTable(width), RowTable(width)

    def _take_rows(self, values: RowTable, keys: list[str], origin) -> RowTable:
        self._hold_rows(values.width)
        now = values.take(keys)  # a copy: later in-place steps do not reach it
        change = now - self.base.take(keys, missing=origin)
        self.own.add(keys, change)
        self.base.put(keys, now)
        return RowTable.of(keys, change)

    def _apply_rows(self, values: RowTable, changes: RowTable, member: str, origin, share: float) -> None:
        self._hold_rows(values.width)
        applied = self.applied.get(member)
        if applied is None:
            applied = self.applied[member] = RowTable(values.width)
        keys = list(changes)
        if not keys:
            return
        moved = changes.take(keys)
        new = values.take(keys, missing=origin) + moved * share
        values.put(keys, new)
        self.base.put(keys, new)
        applied.add(keys, moved)
