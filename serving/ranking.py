"""One ranking pipeline for HTTP and Kafka, pure: a history in, a ranked list out.

Champion model (two-stage) -> exclude seen -> explanations in words. Without a model, or
without the user's history, the answer is the fallback list (popularity), flagged.

>>> from types import SimpleNamespace
>>> model = SimpleNamespace(recommend=lambda h, k, exclude=(): [("b", 2.0), ("c", 1.0)][:k])
>>> ranked = rank(model, history=["a"], k=2, popular=["a", "b", "c"])
>>> [(i.item_id, i.score) for i in ranked.items], ranked.fallback
([('b', 2.0), ('c', 1.0)], False)
>>> [i.item_id for i in rank(None, history=["a"], k=2, popular=["a", "b", "c"]).items]  # no model: popularity
['b', 'c']
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from serving.online import blend
from serving.state import single_threaded_inference
from streams.core.contracts import Recommendation, ScoredItem

log = logging.getLogger("streamrec.serve")

# How a ranker feature reads to a person (the top contributions become an item's reasons).
REASONS = {
    "ease": "people with your tastes liked it",
    "item_knn": "similar to items you engaged with",
    "sasrec": "fits the sequence of what you just did",
    "popularity": "popular overall",
    "similar_to_last": "close to the last item you looked at",
    "item_log_recent": "trending lately",
    "item_log_count": "popular overall",
    "item_mean_grade": "people who take it up tend to engage deeply",
    "item_vs_history_popularity": "as popular as what you usually like",
}


@dataclass(frozen=True)
class Ranked:
    items: list[ScoredItem]
    fallback: bool
    reason: str | None = None  # why it is a fallback
    explored: str | None = None  # the cold-start bandit's context key, when it chose the list


def reason_for(feature: str) -> str:
    for prefix, words in REASONS.items():
        if feature == prefix or feature.startswith(f"{prefix}_"):
            return words
    return feature.replace("_", " ")


def explain(contributions: dict[str, float], top: int = 2) -> list[str]:
    """The ``top`` features that pushed an item up, in words, without repeats."""
    words: list[str] = []
    for feature, value in sorted(contributions.items(), key=lambda kv: -kv[1]):
        if value <= 0:
            break
        phrase = reason_for(feature)
        if phrase not in words:
            words.append(phrase)
        if len(words) == top:
            break
    return words


def rank(model, history: Sequence[str] | None, k: int, popular: Sequence[str], exclude: Sequence[str] = (),
         exclude_seen: bool = True, explain_items: bool = False, online=None, user_id: str | None = None) -> Ranked:
    """The top ``k``. ``history`` None means the store was unavailable (fallback, flagged).
    ``online``: a :class:`serving.online.OnlineScorer`; it re-ranks the top candidates of a known user."""
    seen = list(history or [])
    banned = set(exclude) | (set(seen) if exclude_seen else set())
    if model is None or history is None:
        why = "no model loaded" if model is None else "user history unavailable"
        items = [i for i in popular if i not in banned][:k]
        return Ranked([ScoredItem(item_id=i, score=float(k - n)) for n, i in enumerate(items)], True, why)
    single_threaded_inference()  # per call: OpenMP thread counts are per thread, and requests run on many
    pool = max(3 * k, 30) if online is not None and seen else k
    top = model.recommend(seen, pool, exclude=list(exclude))  # the two-stage model never re-recommends its history
    if pool > k:
        fresh = online.scores(user_id, [i for i, _ in top])
        top = blend(top, fresh, online.weight, k) if fresh else top[:k]
    reasons = model.contributions(seen, [i for i, _ in top]) if explain_items and top else {}
    items = [ScoredItem(item_id=i, score=s, reasons=explain(reasons.get(i, {}))) for i, s in top]
    if len(items) < k:  # short list (tiny catalogue or new user): top up with popular items
        have = banned | {i.item_id for i in items}
        low = min((i.score for i in items), default=0.0)
        items += [ScoredItem(item_id=i, score=low - 1 - n) for n, i in enumerate(p for p in popular if p not in have)]
        items = items[:k]
    return Ranked(items, False)


def explore(explorer, model, context, k: int, exclude: Sequence[str]) -> Ranked | None:
    """The cold-start bandit's list for a user with no history, or None when it cannot answer."""
    try:
        key, top = explorer.rank(model, context or {}, k, set(exclude))
    except Exception:  # noqa: BLE001 -- Redis down: the model's own cold-start list
        return None
    return Ranked([ScoredItem(item_id=i, score=s, reasons=["new here: trying what people like"]) for i, s in top],
                  False, explored=key) if len(top) == k else None


def answer(served, history_of, user_id: str, k: int, exclude: Sequence[str] = (), exclude_seen: bool = True,
           explain_items: bool = False, request_id: str | None = None, cache=None,
           context=None, explorer=None, online=None, experiments=None):
    """The served list for one request, as the ``Recommendation`` contract (HTTP and Kafka alike).
    ``history_of(user_id)`` may return None or raise: both mean the store is unavailable.
    ``cache``: a :class:`serving.cache.TTLCache` of rankings (fallbacks are never cached).
    ``explorer``: a :class:`serving.exploration.ColdStartExplorer` for users with no history.
    ``online``: a :class:`serving.online.OnlineScorer` blending in the online learner's scores.
    ``experiments``: a :class:`serving.experiments.router.ExperimentRouter`; under a running
    experiment the user's variant serves the list, and its impression is recorded."""
    began = time.perf_counter()
    route = experiments.route(user_id) if experiments is not None else None
    if route is not None:
        served = route.served
    key = (user_id, k, tuple(exclude), exclude_seen, explain_items, served.version, repr(sorted((context or {}).items())),
           online.version if online is not None else None)
    ranked = cache.get(key) if cache is not None else None
    if ranked is None:
        try:
            history = history_of(user_id)
        except Exception:  # noqa: BLE001 -- a store outage degrades the answer, never fails it
            history = None
        ranked = None
        if explorer is not None and history == [] and served.model is not None:
            ranked = explore(explorer, served.model, context, k, exclude)
        if ranked is None:
            ranked = rank(served.model, history, k, served.popular, exclude, exclude_seen, explain_items,
                          online=online, user_id=user_id)
        if cache is not None and not ranked.fallback:
            cache.put(key, ranked)
    served_list = Recommendation(request_id=request_id, user_id=user_id, items=ranked.items,
                                 model_name=served.model_name, model_version=served.version,
                                 variant=route.variant if route is not None else None, fallback=ranked.fallback)
    if route is not None:
        experiments.record(route, served_list.recommendation_id, time.perf_counter() - began, ranked.fallback)
    if ranked.explored is not None:
        try:  # the bandit's impressions; losing them must not fail the answer
            explorer.record(served_list.recommendation_id, ranked.explored, [i.item_id for i in ranked.items])
        except Exception as error:  # noqa: BLE001
            log.warning("cold-start impressions not recorded: %s", error)
    return served_list, ranked
