"""Offline top-k metrics, one protocol for every model: for each user, the ranked list against
the items the user took up in the held-out window (binary relevance: any interaction).

>>> ranked = {"u1": ["a", "b", "c"], "u2": ["c", "d", "e"]}
>>> relevant = {"u1": {"b"}, "u2": {"x"}}
>>> m = evaluate(ranked, relevant, k=2, n_catalog=10, popularity={"a": 5, "b": 1, "c": 2, "d": 1, "e": 1})
>>> round(m["ndcg@2"], 4), m["recall@2"], m["hit_rate@2"], m["map@2"], m["coverage@2"]
(0.3155, 0.5, 0.5, 0.25, 0.4)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np


def ndcg_at_k(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    dcg = sum(1.0 / math.log2(i + 2) for i, item in enumerate(ranked[:k]) if item in relevant)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(k, len(relevant))))
    return dcg / ideal if ideal else 0.0


def average_precision_at_k(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    hits, total = 0, 0.0
    for i, item in enumerate(ranked[:k]):
        if item in relevant:
            hits += 1
            total += hits / (i + 1)
    return total / min(k, len(relevant)) if relevant else 0.0


def evaluate(
    ranked: Mapping[str, Sequence[str]],
    relevant: Mapping[str, set[str]],
    k: int,
    n_catalog: int,
    popularity: Mapping[str, int],
    similarity=None,
    per_user: list[float] | None = None,
) -> dict[str, float]:
    """Mean NDCG, Recall, MAP and HitRate at k over the users of ``relevant``; catalogue coverage
    (share of the catalogue recommended to anyone); novelty (mean -log2 of an item's share of
    training interactions); diversity (1 - mean pairwise similarity in a list, when a
    ``similarity(a, b)`` function is given). ``per_user`` receives each user's NDCG (in the
    order of ``relevant``), for intervals."""
    users = [u for u in relevant if relevant[u]]
    ndcg, recall, ap, hit = [], [], [], []
    shown: set[str] = set()
    novelty, diversity = [], []
    total = sum(popularity.values()) or 1
    for user in users:
        top, rel = list(ranked.get(user, []))[:k], relevant[user]
        hits = len(set(top) & rel)
        ndcg.append(ndcg_at_k(top, rel, k))
        recall.append(hits / len(rel))
        ap.append(average_precision_at_k(top, rel, k))
        hit.append(float(hits > 0))
        shown.update(top)
        if top:
            novelty.append(np.mean([-math.log2(max(popularity.get(i, 0), 1) / total) for i in top]))
        if similarity is not None and len(top) > 1:
            pairs = [similarity(a, b) for n, a in enumerate(top) for b in top[n + 1 :]]
            diversity.append(1.0 - float(np.mean(pairs)))
    out = {
        f"ndcg@{k}": _mean(ndcg),
        f"recall@{k}": _mean(recall),
        f"map@{k}": _mean(ap),
        f"hit_rate@{k}": _mean(hit),
        f"coverage@{k}": len(shown) / max(n_catalog, 1),
        "novelty": _mean(novelty),
        "users": float(len(users)),
    }
    if similarity is not None:
        out["diversity"] = _mean(diversity)
    if per_user is not None:
        per_user.extend(ndcg)
    return out


def paired_interval(
    a: Sequence[float], b: Sequence[float], confidence: float = 0.95, draws: int = 2000, seed: int = 0
) -> tuple[float, float]:
    """Bootstrap interval of mean(a - b) over the same users (paired): how sure the holdout is
    that ``a`` ranks better than ``b``.

    >>> low, high = paired_interval([0.3] * 50 + [0.1] * 50, [0.1] * 100)
    >>> 0.05 < low < 0.1 < high < 0.15
    True
    """
    diff = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if not len(diff):
        return (float("-inf"), float("inf"))
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, len(diff), size=(draws, len(diff)))].mean(axis=1)
    tail = (1 - confidence) / 2
    return float(np.quantile(means, tail)), float(np.quantile(means, 1 - tail))


def _mean(values) -> float:
    return float(np.mean(values)) if len(values) else 0.0
