"""Interaction frames, graded labels and the temporal split.

An interaction frame has the columns ``user_id, item_id, event_type, value, timestamp`` (UTC),
one row per event -- what :func:`streams.stores.archive.read_archive` returns.

>>> import pandas as pd
>>> df = pd.DataFrame({"user_id": ["u1", "u1", "u2", "u2"], "item_id": ["a", "b", "a", "c"],
...                    "event_type": ["view", "purchase", "rating", "dislike"], "value": [None, None, 4.5, None],
...                    "timestamp": pd.to_datetime([1, 2, 3, 4], unit="D", utc=True)})
>>> graded_labels(df).tolist()
[1, 4, 3, 0]
>>> split = temporal_split(df, valid_share=0.25, test_share=0.25)
>>> len(split.train), len(split.valid), len(split.test)
(2, 1, 1)
>>> per_user = per_user_split(pd.concat([df] * 3), valid_share=0.2, test_share=0.2, min_events=4)
>>> len(per_user.train), len(per_user.valid), len(per_user.test)
(8, 2, 2)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from streams.core import events

COLUMNS = ["user_id", "item_id", "event_type", "value", "timestamp"]


def graded_labels(df: pd.DataFrame) -> pd.Series:
    """Relevance grade per event: purchase 4 > cart/like 3 > click 2 > view 1; dislike 0.
    Ratings: 4 and above 3, 3-3.5 2, below 3 1 (rated, so seen, but not liked)."""
    grades = df["event_type"].map({k.name: k.grade for k in events.EVENT_KINDS if not k.explicit})
    rating = df["event_type"].isin([k.name for k in events.EVENT_KINDS if k.explicit])
    stars = df["value"].astype(float)
    rated = np.select([stars >= 4.0, stars >= 3.0], [3, 2], default=1)
    return pd.Series(np.where(rating, rated, grades.fillna(1)).astype(int), index=df.index)


@dataclass(frozen=True)
class Split:
    train: pd.DataFrame
    valid: pd.DataFrame
    test: pd.DataFrame
    valid_start: pd.Timestamp | None  # None for a per-user split
    test_start: pd.Timestamp | None
    protocol: str = "global time"


def temporal_split(df: pd.DataFrame, valid_share: float = 0.1, test_share: float = 0.1) -> Split:
    """Cut by event time: the last ``test_share`` of events is the test window, the share before
    it the validation window, the rest is training. Nothing after a cut leaks before it."""
    df = df.sort_values("timestamp", kind="stable").reset_index(drop=True)
    n = len(df)
    valid_at, test_at = int(n * (1 - valid_share - test_share)), int(n * (1 - test_share))
    valid_start, test_start = df["timestamp"].iloc[valid_at], df["timestamp"].iloc[test_at]
    train = df[df["timestamp"] < valid_start]
    valid = df[(df["timestamp"] >= valid_start) & (df["timestamp"] < test_start)]
    test = df[df["timestamp"] >= test_start]
    return Split(train, valid, test, valid_start, test_start)


def per_user_split(df: pd.DataFrame, valid_share: float = 0.1, test_share: float = 0.1, min_events: int = 5) -> Split:
    """Each user's own timeline cut in three: the last ``test_share`` of their events is test,
    the share before it validation. Users with fewer than ``min_events`` stay in training.

    Within a user nothing leaks backwards; across users it does (another user's later events
    are in training), the usual price on datasets such as MovieLens, whose users rate in
    bursts so a global time cut leaves few users to test (22 of 611 in ML latest-small).
    """
    df = df.sort_values("timestamp", kind="stable").reset_index(drop=True)
    position = df.groupby("user_id").cumcount()
    size = df.groupby("user_id")["user_id"].transform("size")
    eligible = size >= min_events
    test = eligible & (position >= (size * (1 - test_share)).round())
    valid = eligible & ~test & (position >= (size * (1 - valid_share - test_share)).round())
    return Split(df[~test & ~valid], df[valid], df[test], None, None, "per-user time")


def histories(df: pd.DataFrame) -> dict[str, list[str]]:
    """Each user's items in time order (repeats kept; dislikes dropped)."""
    liked = df[df["event_type"] != "dislike"].sort_values("timestamp", kind="stable")
    return {user: items.tolist() for user, items in liked.groupby("user_id", sort=False)["item_id"]}


ENGAGED = 2  # the lowest grade that says "liked": a click, or a rating of 3 and above


def next_targets(history: dict[str, list[str]], window: pd.DataFrame) -> dict[str, dict[str, int]]:
    """Like :func:`targets`, but only each user's first engaged new item of the window: what
    they did next, the question an answer asked at the window's start is judged on."""
    window = window.assign(grade=graded_labels(window))
    window = window[window["grade"] >= ENGAGED].sort_values("timestamp", kind="stable")
    out: dict[str, dict[str, int]] = {}
    for user, item, grade in zip(window["user_id"], window["item_id"], window["grade"], strict=True):
        if user in history and user not in out and item not in set(history[user]):
            out[user] = {item: int(grade)}
    return out


def targets(history: dict[str, list[str]], window: pd.DataFrame) -> dict[str, dict[str, int]]:
    """Per user with a history: the new items of the window (not in the history) that they
    engaged with, and their best grade. A view alone (grade 1), like a low rating, says what a
    user was shown, not what they like: views follow exposure (what was popular or promoted),
    so a model judged on them learns exposure, and loses where users choose (the live experiment)."""
    window = window.assign(grade=graded_labels(window))
    window = window[window["grade"] >= ENGAGED]
    out: dict[str, dict[str, int]] = {}
    seen: dict[str, set[str]] = {}
    for (user, item), grade in window.groupby(["user_id", "item_id"])["grade"].max().items():
        if user not in history:
            continue
        if user not in seen:
            seen[user] = set(history[user])
        if item not in seen[user]:
            out.setdefault(user, {})[item] = int(grade)
    return out


def frame_from_events(events) -> pd.DataFrame:
    """An interaction frame from :class:`~streams.core.contracts.Interaction` records (with their
    ``session_id``, which the feature replay needs)."""
    return pd.DataFrame(
        {
            "user_id": [e.user_id for e in events],
            "item_id": [e.item_id for e in events],
            "event_type": [e.event_type.value for e in events],
            "value": [e.value for e in events],
            "timestamp": pd.to_datetime([e.timestamp for e in events], utc=True),
            "session_id": [e.session_id for e in events],
        },
        columns=[*COLUMNS, "session_id"],
    )
