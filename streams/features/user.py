"""Per-user online state and the features read from it.

>>> from streams.core.contracts import Interaction
>>> s = UserState()
>>> e = Interaction(user_id="u1", item_id="i1", event_type="click", timestamp="2026-01-01T10:00:00Z")
>>> s.apply(e, partition=0, offset=7, category="c1"), s.apply(e, partition=0, offset=7, category="c1")
(True, False)
>>> f = user_features(s)
>>> f["click_1h"], f["events_total"], f["recent_items"], f["top_categories"]
(1, 1, ['i1'], ['c1'])
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from streams.core import events
from streams.core.contracts import Interaction
from streams.core.dedupe import DEFAULT_CAPACITY, RecentIds
from streams.features.windows import WINDOWS, prune, window_total

RECENT_ITEMS = 20
TOP_CATEGORIES = 3
SESSION_GAP_S = 30 * 60  # implicit sessions: a new one after 30 min without events

EVENT_TYPES = events.names()
_WINDOW_SIZES = tuple((name, w.bucket_s, w.buckets) for name, w in WINDOWS.items())  # name, bucket seconds, buckets


def event_weight(event: Interaction) -> float:
    """How much an event says about a user's taste for the item's category (ratings: centred on 2.5)."""
    kind = events.kind(event.event_type.value)
    if kind.explicit:
        return (event.value or 0.0) - 2.5
    return kind.affinity


@dataclass
class UserState:
    offsets: dict[int, int] = field(default_factory=dict)  # source partition -> last applied offset
    windows: dict[str, dict[str, dict[int, int]]] = field(default_factory=dict)  # type -> window -> bucket -> n
    totals: dict[str, int] = field(default_factory=dict)
    first_ts: float | None = None
    reference_ts: float | None = None  # latest event time seen
    recent_items: list[str] = field(default_factory=list)
    affinity: dict[str, float] = field(default_factory=dict)
    session_id: str | None = None
    session_start: float = 0.0
    session_last: float = 0.0
    session_events: int = 0
    sessions: int = 0
    rating_sum: float = 0.0
    rating_n: int = 0
    recent_ids: str = ""  # fingerprints of the newest event ids applied (streams.core.dedupe)
    duplicate_at: list[list[int]] = field(default_factory=list)  # [partition, offset] of recent re-sent copies

    def already_applied(self, partition: int, offset: int) -> bool:
        return offset <= self.offsets.get(partition, -1)

    def classify(self, event: Interaction, partition: int, offset: int) -> str:
        """``new`` (apply it), ``redelivered`` (this record again: applied before), ``duplicate``
        (another record with an event id applied before: a re-sent copy), or
        ``redelivered_duplicate`` (a copy's record again). A copy is remembered as seen at its offset,
        so its re-delivery after a crash is still known for a copy and never forwarded."""
        if self.already_applied(partition, offset):
            return "redelivered_duplicate" if [partition, offset] in self.duplicate_at else "redelivered"
        if event.event_id not in self._ids():
            return "new"
        self.offsets[partition] = offset
        self.duplicate_at = (self.duplicate_at + [[partition, offset]])[-DEFAULT_CAPACITY:]
        return "duplicate"

    def apply(self, event: Interaction, partition: int, offset: int, category: str | None) -> bool:
        """Fold one event in; False (and no change) if this offset was applied before."""
        if self.already_applied(partition, offset):
            return False
        self.offsets[partition] = offset
        ts, kind = event.timestamp.timestamp(), event.event_type.value
        self.first_ts = ts if self.first_ts is None else min(self.first_ts, ts)
        before = self.reference_ts
        reference = self.reference_ts = ts if before is None else max(before, ts)
        if before is not None and reference > before:
            self._drop_expired(before)  # time moved on: buckets that left their window go
        self.totals[kind] = self.totals.get(kind, 0) + 1
        per_window = self.windows.get(kind)
        if per_window is None:
            per_window = self.windows[kind] = {}
        for name, size, n in _WINDOW_SIZES:  # windows.add and windows.prune, inlined: the hot path
            counts = per_window.get(name)
            if counts is None:
                counts = per_window[name] = {}
            bucket = int(ts // size)
            if bucket > int(reference // size) - n:  # inside the window ending at the reference time
                counts[bucket] = counts.get(bucket, 0) + 1
            if len(counts) > n:
                prune(counts, WINDOWS[name], reference)
        self.recent_items = (self.recent_items + [event.item_id])[-RECENT_ITEMS:]
        if category is not None:
            self.affinity[category] = self.affinity.get(category, 0.0) + event_weight(event)
        if kind == "rating" and event.value is not None:
            self.rating_sum += event.value
            self.rating_n += 1
        self._session(event.session_id, ts)
        self._ids().add(event.event_id)
        return True

    def _ids(self) -> RecentIds:
        """The ``recent_ids`` window, decoded once and kept while events are applied
        (:meth:`to_dict` writes it back)."""
        ids = self.__dict__.get("_recent")
        if ids is None:
            ids = self.__dict__["_recent"] = RecentIds.decode(self.recent_ids)
        return ids

    def _drop_expired(self, before: float) -> None:
        """Buckets that fell out of their window count for nothing (windows count from the
        reference time, and older events are not added); dropping them keeps the stored state small.
        Only windows whose newest bucket moved since ``before`` can hold such buckets: the others
        were pruned when their bucket last moved, and nothing older is ever added."""
        reference = self.reference_ts
        moved = [name for name, size, _ in _WINDOW_SIZES if int(reference // size) > int(before // size)]
        for name in moved:
            window = WINDOWS[name]
            for per_window in self.windows.values():
                counts = per_window.get(name)
                if counts:
                    prune(counts, window, reference)

    def _session(self, session_id: str | None, ts: float) -> None:
        new = (
            (session_id != self.session_id)
            if session_id is not None
            else (self.sessions == 0 or ts - self.session_last > SESSION_GAP_S)
        )
        if new:
            self.session_id, self.session_start, self.session_last = session_id, ts, ts
            self.session_events, self.sessions = 0, self.sessions + 1
        self.session_events += 1
        self.session_last = max(self.session_last, ts)

    # -- (de)serialisation: a plain dict for orjson
    def to_dict(self) -> dict[str, Any]:
        """Shallow (orjson serialises the nested dicts as they are); asdict() would deep-copy."""
        if "_recent" in self.__dict__:  # the window as the batch left it
            self.recent_ids = self.__dict__["_recent"].encode()
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> UserState:
        state = cls(**data)
        state.offsets = {int(p): o for p, o in state.offsets.items()}
        state.windows = {
            k: {w: {int(b): n for b, n in c.items()} for w, c in ws.items()} for k, ws in state.windows.items()
        }
        return state


def user_features(state: UserState) -> dict[str, Any]:
    """The feature row (Feast ``user_features`` view) for one user."""
    ref = state.reference_ts or 0.0
    row: dict[str, Any] = {}
    for kind in EVENT_TYPES:
        per_window = state.windows.get(kind, {})
        for name, window in WINDOWS.items():
            row[f"{kind}_{name}"] = window_total(per_window.get(name, {}), window, ref)
    positive = sorted(((w, c) for c, w in state.affinity.items() if w > 0), key=lambda x: (-x[0], x[1]))
    total_positive = sum(w for w, _ in positive)
    row.update(
        events_total=sum(state.totals.values()),
        first_event_at=int(state.first_ts or 0),
        last_event_at=int(ref),
        recent_items=list(state.recent_items),
        top_categories=[c for _, c in positive[:TOP_CATEGORIES]],
        top_category_share=(positive[0][0] / total_positive) if positive else 0.0,
        session_events=state.session_events,
        session_duration_s=state.session_last - state.session_start,
        sessions_total=state.sessions,
        mean_rating=(state.rating_sum / state.rating_n) if state.rating_n else 0.0,
    )
    return row
