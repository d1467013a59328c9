"""Point-in-time feature snapshots for training: the stream's own feature code (``UserState``,
``ItemState``, ``user_features``, ``item_features``) replayed over the event log in time order,
read at each example's time. An example at time ``t`` sees exactly the events before ``t``:
never a later one, so nothing from the future leaks into training.

>>> import pandas as pd
>>> frame = pd.DataFrame({"user_id": ["u1", "u2", "u1"], "item_id": ["a", "a", "b"],
...                       "event_type": ["click", "purchase", "view"], "value": [None, None, None],
...                       "timestamp": pd.to_datetime([100, 200, 300], unit="s", utc=True)})
>>> replay = PointInTime(frame, categories={"a": "books"})
>>> before, after = replay([("u1", 150.0, ["a"]), ("u1", 250.0, ["a"])])
>>> before.user["events_total"], before.items["a"]["interactions_total"], after.items["a"]["interactions_total"]
(1, 1, 2)
>>> before.user["top_categories"], after.items["a"]["distinct_users"]
(['books'], 2)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from models.batch.online_features import Snapshot
from streams.core.contracts import Interaction
from streams.features.item import ItemState, item_features
from streams.features.user import UserState, user_features


class PointInTime:
    """Snapshots of the online store as of given times, from an interaction frame (see
    :mod:`models.batch.data`; with a ``session_id`` column when the events carry one) and the
    items' main categories."""

    def __init__(self, frame: pd.DataFrame, categories: Mapping[str, str]):
        ordered = frame.sort_values("timestamp", kind="stable")
        sessions = ordered["session_id"] if "session_id" in ordered else [None] * len(ordered)
        self._rows = list(
            zip(
                ordered["user_id"],
                ordered["item_id"],
                ordered["event_type"],
                ordered["value"],
                ordered["timestamp"],
                sessions,
                strict=True,
            )
        )
        self._times = [ts.timestamp() for ts in ordered["timestamp"]]
        self.categories = categories

    def __call__(self, requests: Sequence[tuple[str, float, Sequence[str]]]) -> list[Snapshot]:
        """One snapshot per (user, time, items) request, in the order given; each sees the events
        strictly before its time."""
        users: dict[str, UserState] = {}
        items: dict[str, ItemState] = {}
        item_users: dict[str, set[str]] = {}
        out: list[Snapshot | None] = [None] * len(requests)
        position = 0
        for index in sorted(range(len(requests)), key=lambda n: requests[n][1]):
            user, at, wanted = requests[index]
            while position < len(self._rows) and self._times[position] < at:
                self._apply(position, users, items, item_users)
                position += 1
            state = users.get(user)
            out[index] = Snapshot(
                at=at,
                user=user_features(state) if state is not None else None,
                items={i: item_features(items[i], len(item_users[i])) for i in wanted if i in items},
                categories={i: self.categories[i] for i in wanted if i in self.categories},
            )
        return out  # type: ignore[return-value]

    def _apply(self, position: int, users, items, item_users) -> None:
        user, item, kind, value, ts, session = self._rows[position]
        event = Interaction(
            user_id=user,
            item_id=item,
            event_type=kind,
            value=None if pd.isna(value) else float(value),
            timestamp=ts.to_pydatetime(),
            session_id=session if isinstance(session, str) else None,
            event_id=f"replay-{position}",
        )
        users.setdefault(user, UserState()).apply(event, 0, position, self.categories.get(item))
        items.setdefault(item, ItemState()).apply(event, 0, position)
        item_users.setdefault(item, set()).add(user)
