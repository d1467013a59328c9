"""The ranker's real-time features: one definition for training and serving.

A :class:`Snapshot` is what the online store held for one request: the user's feature row, the
candidates' item rows and categories, and the request time. Serving reads it from the Feast
online store; training rebuilds it as of each example's time by replaying the same feature code
over the event log (``streams.features.point_in_time``). :func:`online_columns` turns either into
the same columns, so the two paths cannot drift apart.

>>> snap = Snapshot(at=7200.0, user={"events_total": 3, "last_event_at": 3600, "top_categories": ["c1", "c2"],
...                                  "click_1h": 2, "session_events": 3, "top_category_share": 0.8},
...                 items={"a": {"trending_score": 3.0, "last_event_at": 3600, "distinct_users": 4}},
...                 categories={"a": "c2", "b": "c9"})
>>> cols = online_columns(snap, ["a", "b"])
>>> cols.shape == (2, len(ONLINE_FEATURES))
True
>>> rank = ONLINE_FEATURES.index("category_rank")
>>> cols[:, rank].tolist()  # "a" is in the user's 2nd category, "b" in none of the top three
[2.0, 0.0]
>>> trending = ONLINE_FEATURES.index("i_log_trending")  # 3.0 an hour ago, decayed to the request time
>>> round(float(np.expm1(cols[0, trending])), 3), bool(np.isnan(cols[1, trending]))  # no row for "b": missing
(2.673, True)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from streams.core import events
from streams.core.trending import TRENDING_HALF_LIFE_S

WINDOW_NAMES = ("1h", "24h", "7d")

USER_FEATURES = [
    "u_log_events_total",
    *(f"u_log_events_{w}" for w in WINDOW_NAMES),
    "u_log_idle_s",
    "u_log_session_events",
    "u_top_category_share",
    "u_mean_rating",
]
ITEM_FEATURES = [
    "i_log_trending",
    "i_log_age_s",
    "i_log_interactions",
    "i_log_distinct_users",
    "i_click_rate",
    "i_purchase_rate",
    "i_mean_rating",
]
# category_rank 1..3: the item's category is the user's 1st..3rd; 0: none of them.
# session_category_share: the share of the user's newest items in the item's category.
CROSS_FEATURES = ["category_rank", "session_category_share"]
CONTEXT_FEATURES = ["hour_of_day"]
ONLINE_FEATURES = USER_FEATURES + ITEM_FEATURES + CROSS_FEATURES + CONTEXT_FEATURES
AGE = ITEM_FEATURES.index("i_log_age_s")
TRENDING = ITEM_FEATURES.index("i_log_trending")
CROSS = slice(len(USER_FEATURES) + len(ITEM_FEATURES), len(USER_FEATURES) + len(ITEM_FEATURES) + len(CROSS_FEATURES))


@dataclass(frozen=True)
class Snapshot:
    """The online store's view for one request: ``at`` (epoch seconds), the user's row (None: no
    events yet), item id -> item row, item id -> main category."""

    at: float
    user: Mapping[str, Any] | None
    items: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    categories: Mapping[str, str] = field(default_factory=dict)
    # item id -> item_values(its row), when the reader computed them as it read the rows (serving's cache)
    item_values: Mapping[str, tuple[float, ...]] | None = None


# candidate item ids -> the snapshot for them (None: the store cannot answer)
SnapshotLookup = Callable[[Sequence[str]], "Snapshot | None"]


def _log_age(now: float, then: Any) -> float:
    return math.log1p(max(0.0, now - float(then))) if then else math.nan


def user_columns(snapshot: Snapshot) -> list[float]:
    row = snapshot.user
    if not row:
        return [math.nan] * len(USER_FEATURES)
    kinds = events.names()
    return [
        math.log1p(row.get("events_total", 0)),
        *(math.log1p(sum(row.get(f"{kind}_{w}", 0) for kind in kinds)) for w in WINDOW_NAMES),
        _log_age(snapshot.at, row.get("last_event_at")),
        math.log1p(row.get("session_events", 0)),
        float(row.get("top_category_share", 0.0)),
        float(row.get("mean_rating", 0.0)),
    ]


NO_ITEM_ROW = (math.nan,) * len(ITEM_FEATURES)


def item_values(row: Mapping[str, Any] | None) -> tuple[float, ...]:
    """An item row's ``ITEM_FEATURES`` that do not depend on the request time. Two columns hold
    what :func:`item_columns` turns into features at the request time: trending the row's raw score
    (as of its newest event), age the row's ``last_event_at`` (NaN when none)."""
    if not row:
        return NO_ITEM_ROW
    return (
        max(0.0, float(row.get("trending_score", 0.0))),
        float(row.get("last_event_at") or math.nan),
        math.log1p(row.get("interactions_total", 0)),
        math.log1p(row.get("distinct_users", 0)),
        float(row.get("click_rate", 0.0)),
        float(row.get("purchase_rate", 0.0)),
        float(row.get("mean_rating", 0.0)),
    )


def item_columns(snapshot: Snapshot, items: Sequence[str]) -> np.ndarray:
    """(len(items), len(ITEM_FEATURES)): each item's features at the snapshot's time (NaN: no row)."""
    known = snapshot.item_values
    block = np.array(
        [known[i] if known is not None and i in known else item_values(snapshot.items.get(i)) for i in items],
        dtype=np.float64,
    ).reshape(len(items), len(ITEM_FEATURES))
    elapsed = np.maximum(0.0, snapshot.at - block[:, AGE])  # since the item's newest event; NaN: none
    # the row's trending is as of that event: decayed to the request time it reads "trending right now"
    block[:, TRENDING] = np.log1p(block[:, TRENDING] * np.exp2(-np.nan_to_num(elapsed) / TRENDING_HALF_LIFE_S))
    block[:, AGE] = np.log1p(elapsed)  # NaN (no time) stays NaN
    return block


def cross_columns(snapshot: Snapshot, items: Sequence[str], recent: Sequence[str]) -> list[tuple[float, float]]:
    """Each item's ``CROSS_FEATURES``: ``category_rank`` (1..3: the item's category is the user's
    1st..3rd; 0: none of them; NaN: no category or no user row) and ``session_category_share``
    (NaN: no category, or no known category among ``recent``)."""
    categories, shares = snapshot.categories, session_shares(snapshot, recent)
    top = {c: float(n + 1) for n, c in reversed(list(enumerate((snapshot.user or {}).get("top_categories") or [])))}
    has_user = bool(snapshot.user)
    out = []
    for item in items:
        category = categories.get(item)
        if category is None:
            out.append((math.nan, math.nan))
        else:
            out.append(
                (top.get(category, 0.0) if has_user else math.nan, shares.get(category, 0.0) if shares else math.nan)
            )
    return out


def session_shares(snapshot: Snapshot, recent: Sequence[str]) -> dict[str, float]:
    """Category -> its share of the ``recent`` items whose category is known."""
    known = [snapshot.categories[i] for i in recent if i in snapshot.categories]
    return {c: known.count(c) / len(known) for c in set(known)}


def online_columns(snapshot: Snapshot | None, items: Sequence[str], recent: Sequence[str] = ()) -> np.ndarray:
    """The ``ONLINE_FEATURES`` of each item for one request (NaN where the store has nothing:
    LightGBM treats it as missing). ``recent``: the user's newest items (the session); their
    categories come from the snapshot too. No snapshot: every value missing."""
    if snapshot is None:
        return np.full((len(items), len(ONLINE_FEATURES)), np.nan, dtype=np.float32)
    out = np.empty((len(items), len(ONLINE_FEATURES)), dtype=np.float32)
    out[:, : len(USER_FEATURES)] = user_columns(snapshot)
    out[:, len(USER_FEATURES) : len(USER_FEATURES) + len(ITEM_FEATURES)] = item_columns(snapshot, items)
    out[:, CROSS] = cross_columns(snapshot, items, recent) if len(items) else np.empty((0, 2))
    out[:, -1] = float((snapshot.at // 3600) % 24)
    return out
