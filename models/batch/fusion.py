"""The model's list fused with what is popular right now, and the trainer's choice of how much.

Serving fuses the two lists by reciprocal rank (:func:`fuse`) with a weight the trainer chooses on
its holdout (:func:`choose_now_weight`): each test user's list as the model ranks it, fused with
the items most counted among the ``window`` events before their test window opened, at each
weight of :data:`WEIGHTS`. The best weight is kept only when its gain over the model's list alone
is clear of zero (the holdout's paired bootstrap interval, 95 %); otherwise the weight is 0 and the model's list is
served as it is. On a stream whose users follow their own tastes the model alone wins; on one that
follows the crowd (the MovieLens replay of `streamrec bench stream-quality`) the fusion wins.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from models.batch.metrics import ndcg_at_k, paired_interval
from streams.core.popular_now import PopularNow

FUSE_DEPTH = 50  # how deep the model's list and the popular-now list go into the fusion
FUSE_C = 20  # reciprocal-rank fusion's constant: larger flattens the weight of the first ranks
WEIGHTS = (0.0, 0.2, 0.35, 0.5, 0.65)


def fuse(ranked: Sequence[tuple[str, float]], now: Sequence[str], weight: float, k: int) -> list[tuple[str, float]]:
    """Reciprocal-rank fusion of the model's list and the popular-now list: an item scores
    ``(1 - weight) / (FUSE_C + its rank in the model's list) + weight / (FUSE_C + its rank in
    now)``, ranks from 0, nothing for a list it is not in. Ranks, not scores: the model's scores
    and the window's counts are on no common scale.

    >>> fuse([("a", 9.0), ("b", 8.0), ("c", 7.0)], ["c", "x"], weight=0.5, k=4)  # c is in both
    [('c', 0.047727), ('a', 0.025), ('b', 0.02381), ('x', 0.02381)]
    >>> fuse([("a", 9.0), ("b", 8.0)], ["b"], weight=0.0, k=2)  # weight 0: the model's order
    [('a', 0.05), ('b', 0.047619)]
    """
    scores = {item: (1 - weight) / (FUSE_C + r) for r, (item, _) in enumerate(ranked)}
    for r, item in enumerate(now):
        scores[item] = scores.get(item, 0.0) + weight / (FUSE_C + r)
    return [(item, round(score, 6)) for item, score in sorted(scores.items(), key=lambda kv: -kv[1])[:k]]


def popular_before(
    events: pd.DataFrame, times: Mapping[str, float], history: Mapping[str, Sequence[str]], window: int, depth: int
) -> dict[str, list[str]]:
    """Per user of ``times``: the ``depth`` items most counted among the ``window`` events before
    that time (epoch seconds), the user's history left out: what the API's tail would have held.

    >>> df = pd.DataFrame({"item_id": ["a", "b", "b", "c"], "timestamp": pd.to_datetime([1, 2, 3, 4], unit="s", utc=True)})
    >>> popular_before(df, {"u1": 3.5, "u2": 9.0}, {"u2": ["c"]}, window=2, depth=2)
    {'u1': ['b'], 'u2': ['b']}
    """
    ordered = events.sort_values("timestamp", kind="stable")
    stamps = ordered["timestamp"].astype("int64").to_numpy() / 1e9
    items = ordered["item_id"].to_numpy()
    now, out, at = PopularNow(window, rebuild_s=0), {}, 0  # serving's own window, fed in time order
    for user, t in sorted(times.items(), key=lambda kv: kv[1]):
        until = int(np.searchsorted(stamps, t, side="left"))  # events strictly before t
        now.add((str(n), items[n]) for n in range(at, until))
        at = max(at, until)
        out[user] = now.top(depth, exclude=set(history.get(user, ())))
    return out


def choose_now_weight(
    model_lists: Mapping[str, Sequence[tuple[str, float]]],
    now_lists: Mapping[str, Sequence[str]],
    relevant: Mapping[str, set[str]],
    k: int,
    weights: Sequence[float] = WEIGHTS,
) -> tuple[float, dict[float, float]]:
    """The weight to serve, and the mean NDCG@k at each weight. A weight above 0 is chosen only
    when its paired gain over 0 has a 95 % interval above zero (:func:`models.batch.metrics.paired_interval`, as the promotion gates use).

    >>> lists = {"u1": [("a", 2.0), ("b", 1.0)], "u2": [("a", 2.0), ("c", 1.0)]}
    >>> choose_now_weight(lists, {"u1": ["b"], "u2": ["c"]}, {"u1": {"b"}, "u2": {"c"}}, k=1, weights=(0.0, 0.5))[0]
    0.5
    """
    users = [u for u in relevant if u in model_lists]
    per_weight = {
        w: [ndcg_at_k([i for i, _ in fuse(model_lists[u], now_lists.get(u, []), w, k)], relevant[u], k) for u in users]
        for w in weights
    }
    means = {w: float(np.mean(v)) if v else 0.0 for w, v in per_weight.items()}
    best = max(weights, key=lambda w: means[w])
    if best == 0.0 or not users:
        return 0.0, means
    low, _ = paired_interval(per_weight[best], per_weight[0.0])
    return (best if low > 0 else 0.0), means
