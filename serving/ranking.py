"""One ranking pipeline for HTTP and Kafka, pure: a history in, a ranked list out.

Champion model (two-stage) -> exclude seen -> fused with what is popular right now -> explanations
in words. Without a model, or without the user's history, the answer is the fallback list
(popularity), flagged.

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
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from models.batch.fusion import FUSE_DEPTH, fuse
from serving.online import blend
from serving.state import single_threaded_inference
from streams.core.contracts import ScoredItem
from streams.stores.redis_client import RedisUnavailable

log = logging.getLogger("streamrec.serve")

NOW_REASON = "popular right now"

NowList = Callable[[int, set[str]], list[str]]  # (n, items to leave out) -> the n items popular right now


@dataclass(frozen=True)
class Ranked:
    items: list[ScoredItem]
    fallback: bool
    reason: str | None = None  # why it is a fallback
    explored: str | None = None  # the cold-start bandit's context key, when it chose the list
    cold_start: bool = False  # the user had no events in the store: a list for anyone new
    feature_rows: dict | None = None  # item -> the feature row the model ranked it with (the feature log)
    feature_names: tuple[str, ...] = ()  # the rows' columns
    fused: tuple[tuple[str, ...], tuple[str, ...]] | None = None  # the model's list and the popular-now list it fused


def rank(
    model,
    history: Sequence[str] | None,
    k: int,
    popular: Sequence[str],
    exclude: Sequence[str] = (),
    exclude_seen: bool = True,
    explain_items: bool = False,
    online=None,
    user_id: str | None = None,
    features=None,
    now: NowList | None = None,
    now_weight: float = 0.0,
) -> Ranked:
    """The top ``k``. ``history`` None means the store was unavailable (fallback, flagged).
    ``online``: a :class:`serving.online.OnlineScorer`; it re-ranks the top candidates of a known user.
    ``features``: candidate ids -> the online store's snapshot, for a model that ranks with them.
    ``now`` (:meth:`streams.core.popular_now.PopularNow.top`): what the stream is interacting with
    right now, fused with the model's list with ``now_weight`` (:func:`models.batch.fusion.fuse`; 0: the model's alone)."""
    seen = list(history or [])
    banned = set(exclude) | (set(seen) if exclude_seen else set())
    if model is None or history is None:
        why = "no model loaded" if model is None else "user history unavailable"
        items = [i for i in popular if i not in banned][:k]
        return Ranked([ScoredItem(item_id=i, score=float(k - n)) for n, i in enumerate(items)], True, why)
    single_threaded_inference()  # per call: OpenMP thread counts are per thread, and requests run on many
    fusing = now is not None  # weight 0 keeps the model's order; the lists still go to the judge
    depth = max(k, FUSE_DEPTH) if fusing else k
    pool = max(3 * k, 30, depth) if online is not None and seen else depth
    extra = {"features": features} if features is not None else {}
    with_rows = getattr(model, "recommend_with_rows", None)  # never re-recommends the history
    if with_rows is not None:
        top, rows = with_rows(seen, pool, exclude=list(exclude), **extra)
    else:
        top, rows = model.recommend(seen, pool, exclude=list(exclude), **extra), {}
    if online is not None and seen:
        fresh = online.scores(user_id, [i for i, _ in top])
        top = blend(top, fresh, online.weight, depth) if fresh else top[:depth]
    trending = now(depth, set(exclude) | set(seen)) if fusing else []
    modelled = {i for i, _ in top}
    fused = (tuple(i for i, _ in top), tuple(trending)) if fusing else None
    top = fuse(top, trending, now_weight, k) if fusing and now_weight > 0 else top[:k]  # 0: the model's own scores
    by_model = [i for i, _ in top if i in modelled]
    reasons = explanations(model, seen, by_model, exclude, extra) if explain_items and by_model else {}
    if explain_items and now_weight > 0:
        for item in set(trending).intersection(i for i, _ in top):
            reasons[item] = [*reasons.get(item, []), NOW_REASON]
    items = [ScoredItem(item_id=i, score=s, reasons=reasons.get(i, [])) for i, s in top]
    if len(items) < k:  # short list (tiny catalogue or new user): top up with popular items
        have = banned | {i.item_id for i in items}
        low = min((i.score for i in items), default=0.0)
        items += [ScoredItem(item_id=i, score=low - 1 - n) for n, i in enumerate(p for p in popular if p not in have)]
        items = items[:k]
    served_rows = {i.item_id: rows[i.item_id] for i in items if i.item_id in rows} or None
    names = tuple(model.feature_names) if served_rows else ()
    return Ranked(items, False, cold_start=not seen, feature_rows=served_rows, feature_names=names, fused=fused)


def explanations(model, history, items, exclude, extra) -> dict[str, list[str]]:
    """The items' reasons; an explanation that fails leaves the list without reasons, never fails it."""
    try:
        return model.reasons(history, items, exclude=list(exclude), **extra)
    except Exception:
        log.exception("explanations failed")
        return {}


def explore(explorer, model, context, k: int, exclude: Sequence[str]) -> Ranked | None:
    """The cold-start bandit's list for a user with no history, or None when it cannot answer."""
    try:
        key, top = explorer.rank(model, context or {}, k, set(exclude))
    except RedisUnavailable:  # the model's own cold-start list
        return None
    return (
        Ranked(
            [ScoredItem(item_id=i, score=s, reasons=["new here: trying what people like"]) for i, s in top],
            False,
            explored=key,
            cold_start=True,
        )
        if len(top) == k
        else None
    )
