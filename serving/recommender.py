"""The one object that answers a recommendation request, on HTTP and on Kafka alike.

It owns what an answer draws on: the served model (:class:`~serving.state.ModelState`), the
history store, the ranking cache, cold-start exploration, the online learner's scores and the
experiments. Each collaborator degrades on its own (a history store that cannot answer returns
None, an explorer that cannot answer returns None), so answering never fails for a store outage.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple

from models.batch.online_features import SnapshotLookup
from serving.cache import TTLCache
from serving.features import OnlineFeatures
from serving.fusion_judge import FusionJudge
from serving.ranking import Ranked, explore, rank
from serving.recent_events import RecentEvents
from serving.state import ModelState
from streams.core.contracts import Recommendation, RecommendationRequest
from streams.core.popular_now import PopularNow
from streams.stores.redis_client import RedisUnavailable
from streams.stores.seen_items import SeenSet

log = logging.getLogger("streamrec.serve")

History = Callable[[str], list[str] | None]  # user id -> recent items; None: the store cannot answer
Seen = Callable[[str], SeenSet | None]  # user id -> the seen-set and its newest event; None: cannot answer
SeenAmong = Callable[[str, list[str]], set[str] | None]  # user id, items -> those seen; None: cannot answer
OLDER_SEEN_MARGIN = 20  # extra items ranked for a user whose seen-set is larger than what was read


@dataclass
class Recommender:
    """``experiments``: a :class:`serving.experiments.router.ExperimentRouter`; under a running
    experiment the user's variant serves the list, and its impression is recorded.
    ``explorer``: a :class:`serving.exploration.ColdStartExplorer` for users with no history.
    ``online``: a :class:`serving.online.OnlineScorer` blending in the online learner's scores.
    ``seen``: the full seen-set (:meth:`streams.stores.seen_items.SeenItems.read`), which ``exclude_seen``
    excludes on every path; without it (or when it cannot answer) only the recent history is excluded.
    Its newest event time is part of the cache key, so a cached list never predates the user's
    latest (processed) event. ``seen_among`` (:meth:`~streams.stores.seen_items.SeenItems.among`)
    checks the list about to be served against the older part of a large seen-set.
    ``features``: a :class:`serving.features.OnlineFeatures`; one read gives the user's history and
    feature row, and the ranker reads the candidates' rows through it (it replaces ``history``).
    ``recent``: a :class:`serving.recent_events.RecentEvents` the API fills from the topic; the
    user's events newer than the store's join the history and the seen items. ``settle``
    (:meth:`serving.read_your_writes.ReadYourWrites.settle`) first waits, within a budget, until
    ``recent`` holds every event of the user the broker had acknowledged when the request came.
    ``popular_now`` (:class:`streams.core.popular_now.PopularNow`, filled by the same tail) is fused
    with the model's list with ``popular_now_weight`` (:func:`models.batch.fusion.fuse`); unset, the
    ``judge`` (:class:`serving.fusion_judge.FusionJudge`) moves it from the model's own weight (chosen
    by its trainer) to the one that serves best, judged on the answers and the users' next interactions."""

    state: ModelState
    history: History | None = None
    cache: TTLCache | None = None
    explorer: object | None = None
    online: object | None = None
    experiments: object | None = None
    seen: Seen | None = None
    features: OnlineFeatures | None = None
    recent: RecentEvents | None = None
    seen_among: SeenAmong | None = None
    settle: Callable[[str], object] | None = None
    popular_now: PopularNow | None = None
    popular_now_weight: float | None = None  # None: the judge's, or the served model's own
    judge: FusionJudge | None = None

    def answer(self, request: RecommendationRequest, exclude: Sequence[str] = ()) -> tuple[Recommendation, Ranked]:
        """The served list for one request, as the ``Recommendation`` contract, and how it was ranked."""
        began = time.perf_counter()
        route = self.experiments.route(request.user_id) if self.experiments is not None else None
        served = route.served if route is not None else self.state.served
        if self.settle is not None:
            self.settle(request.user_id)
        user = self._read_user(request.user_id) if self._one_read else None
        if user is not None:
            seen = user.seen
        else:
            seen = self.seen(request.user_id) if self.seen is not None else None
        key = (
            request.user_id,
            request.k,
            tuple(exclude),
            request.exclude_seen,
            request.explain,
            served.version,
            repr(sorted(request.context.items())),
            self.online.version if self.online is not None else None,
            seen.latest if seen is not None else None,
            self.recent.newest(request.user_id) if self.recent is not None else None,
        )
        ranked = self.cache.get(key) if self.cache is not None else None
        if ranked is None:
            ranked = self._rank(served, request, exclude, seen, user)
            if self.cache is not None and not ranked.fallback:
                self.cache.put(key, ranked)
        served_list = Recommendation(
            request_id=request.request_id,
            user_id=request.user_id,
            items=ranked.items,
            model_name=served.model_name,
            model_version=served.version,
            variant=route.variant if route is not None else None,
            fallback=ranked.fallback,
        )
        if route is not None:
            self.experiments.record(route, served_list.recommendation_id, time.perf_counter() - began, ranked.fallback)
        if ranked.explored is not None:
            try:  # the bandit's impressions; losing them must not fail the answer
                self.explorer.record(served_list.recommendation_id, ranked.explored, [i.item_id for i in ranked.items])
            except RedisUnavailable as error:
                log.warning("cold-start impressions not recorded: %s", error)
        return served_list, ranked

    def _rank(
        self,
        served,
        request: RecommendationRequest,
        exclude: Sequence[str],
        seen: SeenSet | None,
        user: UserRead | None,
    ) -> Ranked:
        history, lookup, _ = user or self._read_user(request.user_id)
        fresh = self.recent.since(request.user_id, seen.latest if seen is not None else 0.0) if self.recent else []
        if fresh and history is not None:  # in the stream, not yet in the store
            newer = set(fresh)
            history = [*(i for i in history if i not in newer), *fresh]
        if request.exclude_seen and seen is not None:
            exclude = [*exclude, *sorted(seen.items.difference(exclude))]
        if self.explorer is not None and history == [] and served.model is not None:
            explored = explore(self.explorer, served.model, request.context, request.k, exclude)
            if explored is not None:
                return explored
        older = request.exclude_seen and seen is not None and seen.partial and self.seen_among is not None
        weight = self.fusion_weight(served.model)
        for _ in range(3 if older else 1):
            ranked = rank(
                served.model,
                history,
                request.k + (OLDER_SEEN_MARGIN if older else 0),
                served.popular,
                exclude,
                request.exclude_seen,
                request.explain,
                online=self.online,
                user_id=request.user_id,
                features=lookup,
                now=self.popular_now.top if self.popular_now is not None else None,
                now_weight=weight,
            )
            if self.judge is not None and ranked.fused is not None:
                self.judge.served(request.user_id, *ranked.fused, request.k, weight)
            if not older or ranked.fallback:
                return ranked
            found = self.seen_among(request.user_id, [i.item_id for i in ranked.items]) or set()
            kept = [i for i in ranked.items if i.item_id not in found]
            if len(kept) >= request.k or not found:
                return replace(ranked, items=kept[: request.k])
            exclude = [*exclude, *sorted(found)]  # seen long ago, and many of them: rank again without
        return replace(ranked, items=kept[: request.k])

    def fusion_weight(self, model=None) -> float:
        """The weight answers fuse popular-now with (``model``: the served one by default)."""
        if self.popular_now_weight is not None:
            return self.popular_now_weight
        model = model if model is not None else self.state.served.model
        prior = float(getattr(model, "popular_now_weight", 0.0) or 0.0)  # models trained before: none
        return self.judge.current(prior) if self.judge is not None else prior

    @property
    def _one_read(self) -> bool:
        """The user's row and seen-set come in one round trip, read before the cache is asked."""
        return self.features is not None and self.features.reads_seen

    def _read_user(self, user_id: str) -> UserRead:
        if self.features is None:
            return UserRead(self.history(user_id) if self.history is not None else [], None)
        try:
            view = self.features.user(user_id)
        except Exception as error:  # noqa: BLE001 -- Redis or Feast down: a flagged fallback answer
            log.warning("user features unavailable: %s", error)
            return UserRead(None, None)
        return UserRead(view.history, view.lookup, view.seen)


class UserRead(NamedTuple):
    """What the store said of a user: history (None: the store cannot answer), the online features
    lookup, and the seen-set when it came in the same round trip."""

    history: list[str] | None
    lookup: SnapshotLookup | None
    seen: SeenSet | None = None
