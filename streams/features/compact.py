"""The stored form of a user's feature state, made small: most of Redis' bytes per user.

What the JSON form spent its bytes on, per user on the synthetic stream (mean 874 bytes
compressed): the field names of every state, each windowed bucket as a ``"490930": 13`` pair,
and the event-id fingerprints as base64 text. Here a state is

- a list in :data:`FIELDS` order (no names),
- each window's buckets as ``[first bucket, count, count, ...]``: consecutive buckets, their
  numbers implied (zeros fill the gaps; a sparse window, which pruning prevents, stays a dict),
- the fingerprints as raw bytes beside the compressed JSON, not inside it (LZ4 cannot shrink
  random bytes, and base64 adds a third).

Layout: ``b"\\x05"``, the fingerprints' length (2 bytes, big-endian), the fingerprints, then the
JSON list as an LZ4 block. 600 bytes per user instead of 874 (``streamrec bench memory``).

>>> from streams.core.contracts import Interaction
>>> s = UserState()
>>> for n, minute in enumerate((0, 1, 70)):
...     e = Interaction(user_id="u", item_id=f"i{n}", event_type="view", timestamp=1_800_000_000 + 60 * minute)
...     _ = s.apply(e, 0, n, "c1")
>>> row, ids = user_row(s)
>>> row[FIELDS.index("windows")]["view"][1]  # 24h: hourly buckets from the first, gaps as zeros
[500000, 2, 1]
>>> len(ids)  # three 6-byte fingerprints
18
>>> back = user_from_row(row, ids)
>>> back.windows == s.windows, back.apply(e, 0, 2, "c1"), back.classify(e, 0, 9)
(True, False, 'duplicate')
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from streams.core.dedupe import RecentIds
from streams.features.user import UserState
from streams.features.windows import WINDOWS

FIELDS = tuple(f.name for f in fields(UserState) if f.name != "recent_ids")
WINDOW_NAMES = tuple(WINDOWS)
_SPREAD = 2  # a window whose buckets span more than twice its length is kept sparse (a dict)


def dense(counts: dict[int, int], buckets: int) -> list[int] | dict[int, int]:
    """``{bucket: n}`` -> ``[first bucket, n, n, ...]`` over consecutive buckets.

    >>> dense({7: 2, 9: 1}, 24), dense({}, 24), dense({1: 1, 500: 1}, 24)
    ([7, 2, 0, 1], [], {1: 1, 500: 1})
    """
    if not counts:
        return []
    first, last = min(counts), max(counts)
    if last - first >= _SPREAD * buckets:
        return counts
    return [first, *(counts.get(b, 0) for b in range(first, last + 1))]


def sparse(stored: list[int] | dict) -> dict[int, int]:
    """:func:`dense`'s inverse (zero buckets left out).

    >>> sparse([7, 2, 0, 1]), sparse({"1": 1})
    ({7: 2, 9: 1}, {1: 1})
    """
    if isinstance(stored, dict):
        return {int(b): n for b, n in stored.items()}
    if not stored:
        return {}
    first = stored[0]
    return {first + n: count for n, count in enumerate(stored[1:]) if count}


def user_row(state: UserState) -> tuple[list[Any], bytes]:
    """The state as a list in :data:`FIELDS` order, and its event-id fingerprints as raw bytes."""
    ids = state.__dict__.get("_recent") or RecentIds.decode(state.recent_ids)
    row = []
    for name in FIELDS:
        value = getattr(state, name)
        if name == "windows":
            value = {
                kind: [dense(per_window.get(w, {}), WINDOWS[w].buckets) for w in WINDOW_NAMES]
                for kind, per_window in value.items()
            }
        row.append(value)
    return row, ids.packed


def user_from_row(row: list[Any], ids: bytes) -> UserState:
    """:func:`user_row`'s inverse."""
    values = dict(zip(FIELDS, row, strict=True))
    values["offsets"] = {int(p): o for p, o in values["offsets"].items()}
    values["windows"] = {
        kind: {w: sparse(stored) for w, stored in zip(WINDOW_NAMES, per_window, strict=True)}
        for kind, per_window in values["windows"].items()
    }
    state = UserState(**values)
    state.__dict__["_recent"] = RecentIds(ids)  # what to_dict() and classify() read
    return state
