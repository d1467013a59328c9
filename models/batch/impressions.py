"""Impression lists: what a user was shown in one visit and which of it they chose.

The candidate lists (:func:`models.batch.ranker.training_frame`) teach the ranker which of its
candidates a user took up next. But users take up what they were shown, and what they are shown
follows exposure (popular items are looked at more), so from those lists alone a ranker learns
exposure as much as choice. Within one visit, every viewed item was shown: which of them the
user clicked, put in the cart or bought says what they choose, exposure held equal. This is
how event-driven rankers learn from impressions and clicks; here the stream's own ``view``
events are the impressions.

A visit (one ``session_id`` of one user) gives a list when it holds at least one item only
viewed and one engaged with; each item's label is how far down the funnel it went (view 0,
click 1, like or cart 2, purchase 3). Streams without views or sessions (ratings alone) give
none, and training is then as before.

>>> import pandas as pd
>>> frame = pd.DataFrame({"user_id": ["u"] * 4 + ["v"], "item_id": ["a", "b", "b", "c", "a"],
...                       "event_type": ["view", "view", "click", "view", "view"], "value": [None] * 5,
...                       "timestamp": pd.to_datetime([10, 11, 12, 13, 14], unit="s", utc=True),
...                       "session_id": ["s1"] * 4 + ["s2"]})
>>> [(v.user, v.at, v.items, v.labels) for v in impression_lists(frame)]
[('u', 10.0, ['a', 'b', 'c'], [0, 1, 0])]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

# how far down the funnel an item went in the visit (a dislike: not chosen)
FUNNEL = {"view": 0, "dislike": 0, "click": 1, "like": 2, "add_to_cart": 2, "purchase": 3}


@dataclass(frozen=True)
class Visit:
    user: str
    at: float  # the visit's first event (epoch seconds): its features are read as of then
    items: list[str]
    labels: list[int]


def impression_lists(window: pd.DataFrame) -> list[Visit]:
    """The visits of ``window`` with something shown and not chosen and something chosen, in time order."""
    if "session_id" not in window or window.empty:
        return []
    shown = window[window["event_type"].isin(FUNNEL) & window["session_id"].notna()]
    shown = shown.assign(depth=shown["event_type"].map(FUNNEL)).sort_values("timestamp", kind="stable")
    visits = []
    for (user, _), events in shown.groupby(["user_id", "session_id"], sort=False):
        depth = events.groupby("item_id", sort=False)["depth"].max()
        if depth.min() == 0 and depth.max() > 0:
            at = events["timestamp"].iloc[0].timestamp()
            visits.append(Visit(user, at, depth.index.tolist(), depth.astype(int).tolist()))
    return sorted(visits, key=lambda v: v.at)


def history_before(history: Mapping[str, list[str]], window: pd.DataFrame, visits: list[Visit]) -> list[list[str]]:
    """Each visit's history: the user's ``history`` and their events of ``window`` before the visit."""
    liked = window[window["event_type"] != "dislike"].sort_values("timestamp", kind="stable")
    times: dict[str, tuple[np.ndarray, list[str]]] = {
        user: (np.array([t.timestamp() for t in rows["timestamp"]]), rows["item_id"].tolist())
        for user, rows in liked.groupby("user_id", sort=False)
    }
    out = []
    for visit in visits:
        stamps, items = times.get(visit.user, (np.empty(0), []))
        out.append(list(history.get(visit.user, [])) + items[: int(np.searchsorted(stamps, visit.at, side="left"))])
    return out


def impression_frame(model, visits: list[Visit], histories: list[list[str]], snapshots: list) -> tuple:
    """(features, labels, group sizes) of the visits whose items the model knows, features as the
    candidates get them at serving (:meth:`~models.batch.ranker.TwoStageModel.rows_for`)."""
    xs, ys, groups = [], [], []
    for visit, history, snapshot in zip(visits, histories, snapshots, strict=True):
        known = _known(model, visit)
        if not known:
            continue
        xs.append(model.rows_for(history, [i for i, _ in known], snapshot))
        ys.append(np.array([y for _, y in known]))
        groups.append(len(known))
    if not xs:
        return np.empty((0, len(model.feature_names))), np.empty(0), []
    return np.vstack(xs), np.concatenate(ys), groups


def _known(model, visit: Visit) -> list[tuple[str, int]]:
    """The visit's (item, label) pairs the model knows; none unless they went to two depths at least."""
    known = [(i, y) for i, y in zip(visit.items, visit.labels, strict=True) if i in model.vocab.index]
    return known if len({y for _, y in known}) > 1 else []


def choice_ndcg(labels: list[int], scores: np.ndarray) -> float:
    """NDCG of the order ``scores`` gives a shown list, judged by how far each item went. Items
    with equal scores share the mean discount of the places they take (a model that cannot tell
    them apart gets no credit from the order they were shown in).

    >>> choice_ndcg([0, 1, 0], np.array([0.1, 0.9, 0.5])), round(choice_ndcg([0, 1, 0], np.array([0.9, 0.1, 0.5])), 3)
    (1.0, 0.5)
    >>> round(choice_ndcg([1, 0], np.array([0.5, 0.5])), 3)  # a tie: between first and second place
    0.815
    """
    gains = 2.0 ** np.asarray(labels, dtype=float) - 1
    discounts = 1 / np.log2(np.arange(2, len(gains) + 2))
    ideal = float(np.sort(gains)[::-1] @ discounts)
    if ideal <= 0:
        return float("nan")
    order = np.argsort(-scores, kind="stable")
    _, group, sizes = np.unique(-np.asarray(scores)[order], return_inverse=True, return_counts=True)
    shared = np.bincount(group, weights=discounts) / sizes  # each group of equal scores: its mean discount
    return float(gains[order] @ shared[group]) / ideal


def choice_scores(model, visits: list[Visit], histories: list[list[str]], snapshots: list) -> list[float]:
    """Per visit, how well ``model`` orders what was shown by what was chosen (:func:`choice_ndcg`;
    NaN where it knows fewer than two of the items or they all went equally far). A model that
    ranks with one generator alone orders them by that generator's score."""
    out = []
    for visit, history, snapshot in zip(visits, histories, snapshots, strict=True):
        known = _known(model, visit)
        if not known:
            out.append(float("nan"))
            continue
        items = [i for i, _ in known]
        if model.booster is None:
            scores = next(iter(model.generators.values())).score(history)[model.vocab.indices(items)]
        else:
            scores = model.booster.predict(model.rows_for(history, items, snapshot), num_threads=1)
        out.append(choice_ndcg([y for _, y in known], np.asarray(scores)))
    return out


def merge(first: tuple, second: tuple, holdout_share: float = 0.2) -> tuple:
    """Two (features, labels, groups) frames as one whose last ``holdout_share`` of groups (what
    :func:`~models.batch.ranker.fit_ranker` stops early on) holds that share of each.

    >>> a = (np.zeros((4, 1)), np.array([1, 0, 1, 0]), [2, 2])
    >>> b = (np.ones((6, 1)), np.array([0, 1, 0, 1, 0, 1]), [2, 2, 2])
    >>> x, y, groups = merge(a, b, holdout_share=0.4)
    >>> x[:, 0].tolist(), groups
    ([0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0], [2, 2, 2, 2, 2])
    """
    parts: list[list[tuple]] = [[], []]
    for frame in (first, second):
        x, y, groups = frame
        cut = int(len(groups) * (1 - holdout_share)) if len(groups) > 1 else len(groups)
        rows = int(np.sum(groups[:cut]))
        parts[0].append((x[:rows], y[:rows], list(groups[:cut])))
        parts[1].append((x[rows:], y[rows:], list(groups[cut:])))
    pieces = parts[0] + parts[1]
    return (
        np.vstack([p[0] for p in pieces]),
        np.concatenate([p[1] for p in pieces]),
        [g for p in pieces for g in p[2]],
    )
