"""Vectors of one width under string keys, held as the rows of one matrix.

A row read by key is a view, so a learner's step updates it in place as it would a dict's
array; many rows are read, written or added at once by position (:meth:`RowTable.take`,
:meth:`~RowTable.put`, :meth:`~RowTable.add`), which is what syncing thousands of latent factors
between processes needs: one numpy operation instead of a few per key. It pickles as its keys and
one matrix.

A view stays live until the table grows (the matrix is then reallocated): read a row after
adding keys, not before.

>>> t = RowTable(2)
>>> t["a"] = [1.0, 2.0]
>>> row = t["a"]; row += 1.0           # in place, as a learner's step does
>>> t["a"].tolist()
[2.0, 3.0]
>>> t.add(["a", "b"], np.array([[1.0, 1.0], [5.0, 5.0]]))   # "b" is new: it starts at 0
>>> t.take(["b", "a"]).tolist()
[[5.0, 5.0], [3.0, 4.0]]
>>> t.take(["c"], missing=lambda key: np.full(2, 9.0)).tolist(), "c" in t
([[9.0, 9.0]], False)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, MutableMapping

import numpy as np


class RowTable(MutableMapping):
    def __init__(self, width: int, rows: dict[str, Iterable[float]] | None = None):
        self.width = width
        self._index: dict[str, int] = {}
        self._keys: list[str] = []
        self._rows = np.zeros((16, width))
        for key, row in (rows or {}).items():
            self[key] = row

    @classmethod
    def of(cls, keys: list[str], matrix: np.ndarray) -> RowTable:
        """A table holding ``matrix``'s rows (not a copy) under ``keys``."""
        table = cls(matrix.shape[1] if matrix.ndim == 2 else 0)
        table._keys, table._rows = list(keys), matrix
        table._index = {k: n for n, k in enumerate(table._keys)}
        return table

    # -- the mapping
    def __getitem__(self, key: str) -> np.ndarray:
        return self._rows[self._index[key]]

    def get(self, key: str, default=None):
        n = self._index.get(key)
        return default if n is None else self._rows[n]

    def __setitem__(self, key: str, value) -> None:
        n = self._index.get(key)
        if n is None:
            n = self._append(key)
        self._rows[n] = value

    def __delitem__(self, key: str) -> None:
        """The last row moves into the freed one (a view of it is stale from then on)."""
        n = self._index.pop(key)
        last = len(self._keys) - 1
        if n != last:
            moved = self._keys[last]
            self._rows[n], self._keys[n], self._index[moved] = self._rows[last], moved, n
        self._keys.pop()

    def __contains__(self, key) -> bool:
        return key in self._index

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._keys))

    def __len__(self) -> int:
        return len(self._keys)

    # -- many rows at once
    @property
    def matrix(self) -> np.ndarray:
        """Every row, in :meth:`keys` order (a view)."""
        return self._rows[: len(self._keys)]

    def take(self, keys: list[str], missing: Callable[[str], np.ndarray] | None = None) -> np.ndarray:
        """The rows of ``keys`` (a copy); a key not here is ``missing(key)`` (or raises KeyError)."""
        index = self._index
        if missing is None or all(k in index for k in keys):
            return self._rows[[index[k] for k in keys]]
        out = np.empty((len(keys), self.width))
        for n, key in enumerate(keys):
            found = index.get(key)
            out[n] = self._rows[found] if found is not None else missing(key)
        return out

    def put(self, keys: list[str], values: np.ndarray) -> None:
        at = self._positions(keys)  # first: adding keys may reallocate the matrix
        self._rows[at] = values

    def add(self, keys: list[str], values: np.ndarray) -> None:
        """Add ``values`` to the rows of ``keys`` (keys not here start at 0). Keys are distinct."""
        at = self._positions(keys)
        self._rows[at] += values

    def copy(self) -> RowTable:
        return RowTable.of(self._keys, self.matrix.copy())

    def _positions(self, keys: list[str]) -> list[int]:
        index = self._index
        return [index[k] if k in index else self._append(k) for k in keys]

    def _append(self, key: str) -> int:
        n = len(self._keys)
        if n == len(self._rows):
            grown = np.zeros((max(16, 2 * n), self.width))
            grown[:n] = self._rows[:n]
            self._rows = grown
        self._rows[n] = 0.0
        self._index[key] = n
        self._keys.append(key)
        return n

    def __getstate__(self) -> dict:
        return {"width": self.width, "keys": self._keys, "rows": self.matrix.copy()}

    def __setstate__(self, state: dict) -> None:
        self.width, self._keys, self._rows = state["width"], list(state["keys"]), state["rows"]
        self._index = {k: n for n, k in enumerate(self._keys)}

    def __repr__(self) -> str:
        return f"RowTable(width={self.width}, rows={len(self)})"
