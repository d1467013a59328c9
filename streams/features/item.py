"""Per-item online state (built after the repartition by item_id) and its features.

Item state sees events from every source partition, so it remembers the last applied source
offset *per source partition*; the repartition keeps each (source partition, item) path in
order, so anything at or below that offset is a re-delivery.

>>> from streams.core.contracts import Interaction
>>> s = ItemState()
>>> v = Interaction(user_id="u1", item_id="i1", event_type="view", timestamp="2026-01-01T10:00:00Z")
>>> c = Interaction(user_id="u1", item_id="i1", event_type="click", timestamp="2026-01-01T10:00:05Z")
>>> [s.apply(v, 2, 10), s.apply(c, 2, 11), s.apply(v, 2, 10)]
[True, True, False]
>>> f = item_features(s, distinct_users=1)
>>> f["views"], f["clicks"], f["click_rate"]
(1, 1, 1.0)
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from streams.core.contracts import Interaction
from streams.core.trending import decay
from streams.features.user import EVENT_TYPES, event_weight


@dataclass
class ItemState:
    offsets: dict[int, int] = field(default_factory=dict)  # source partition -> last applied source offset
    totals: dict[str, int] = field(default_factory=dict)
    trending: float = 0.0  # sum of |weight| * 2^(-age / half-life), as of reference_ts
    reference_ts: float | None = None
    rating_sum: float = 0.0
    rating_n: int = 0

    def apply(self, event: Interaction, source_partition: int, source_offset: int) -> bool:
        if source_offset <= self.offsets.get(source_partition, -1):
            return False
        self.offsets[source_partition] = source_offset
        ts, kind = event.timestamp.timestamp(), event.event_type.value
        self.totals[kind] = self.totals.get(kind, 0) + 1
        weight = abs(event_weight(event)) or 1.0  # interest, liked or not
        if self.reference_ts is None or ts >= self.reference_ts:
            base = 0.0 if self.reference_ts is None else decay(self.trending, self.reference_ts, ts)
            self.trending, self.reference_ts = base + weight, ts
        else:  # a late event adds its already-decayed weight
            self.trending += decay(weight, ts, self.reference_ts)
        if kind == "rating" and event.value is not None:
            self.rating_sum += event.value
            self.rating_n += 1
        return True

    def to_dict(self) -> dict[str, Any]:
        """Shallow (orjson serialises the nested dicts as they are); asdict() would deep-copy."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ItemState:
        state = cls(**data)
        state.offsets = {int(p): o for p, o in state.offsets.items()}
        return state


def item_features(state: ItemState, distinct_users: int) -> dict[str, Any]:
    """The feature row (Feast ``item_features`` view) for one item."""
    n = {kind: state.totals.get(kind, 0) for kind in EVENT_TYPES}
    return {
        "trending_score": state.trending,
        "views": n["view"],
        "clicks": n["click"],
        "carts": n["add_to_cart"],
        "purchases": n["purchase"],
        "likes": n["like"],
        "dislikes": n["dislike"],
        "ratings": n["rating"],
        "interactions_total": sum(n.values()),
        "click_rate": n["click"] / n["view"] if n["view"] else 0.0,
        "purchase_rate": n["purchase"] / n["click"] if n["click"] else 0.0,
        "distinct_users": distinct_users,
        "mean_rating": state.rating_sum / state.rating_n if state.rating_n else 0.0,
        "last_event_at": int(state.reference_ts or 0),
    }
