"""Trending: an item's interest, each event's weight halved every ``TRENDING_HALF_LIFE_S``.

The worker keeps the score as of the item's newest event (``reference_ts``); a reader that wants
the score *now* decays it the rest of the way, so an item that was hot yesterday and quiet since
does not read as hot today.

>>> decay(8.0, from_ts=0.0, to_ts=2 * TRENDING_HALF_LIFE_S)
2.0
>>> decay(8.0, from_ts=100.0, to_ts=100.0)
8.0
"""

from __future__ import annotations

TRENDING_HALF_LIFE_S = 6 * 3600


def decay(score: float, from_ts: float, to_ts: float) -> float:
    """``score`` observed at ``from_ts``, as seen at ``to_ts``."""
    return score * 2.0 ** (-(to_ts - from_ts) / TRENDING_HALF_LIFE_S)
