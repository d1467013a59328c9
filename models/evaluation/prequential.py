"""Prequential (test-then-train) evaluation: score each event before learning from it.

Pointwise: MAE of the prediction against the target (overall and over a rolling window).
Ranking: every ``rank_every``-th positive event, the true item is ranked among
``candidates - 1`` items sampled from those seen so far; a hit is the true item in the top ``k``.

>>> from models.learners import MatrixFactorization
>>> p = Prequential(MatrixFactorization(seed=1), rank_every=1, candidates=3, k=1, seed=0)
>>> for item in ["a", "b", "c", "a", "a"]:
...     step = p.update("u", item, 5.0)
>>> p.n, round(p.mae.get(), 3) > 0, p.hit_rate.n > 0
(5, True, True)
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from river import metrics, stats, utils

from models.evaluation.auc import BinnedAUC
from models.learners.base import Features, Learner


@dataclass(frozen=True)
class PrequentialStep:
    prediction: float
    error: float
    hit: bool | None  # None when this event was not ranked
    shadow_hit: bool | None = None  # the shadow learner's hit on the same candidates


class Prequential:
    def __init__(
        self,
        learner: Learner,
        *,
        k: int = 10,
        candidates: int = 100,
        rank_every: int = 10,
        window: int = 1000,
        seed: int = 0,
    ):
        """``shadow`` (set later) is a second learner that is ranked on the same candidates but
        never trained here -- e.g. a reference frozen at the last retrain, to see the world move."""
        self.learner, self.k, self.candidates, self.rank_every = learner, k, candidates, rank_every
        self.shadow: Learner | None = None
        self.mae = metrics.MAE()
        self.rolling_mae = utils.Rolling(metrics.MAE, window_size=window)
        self.hit_rate = stats.Mean()
        self.rolling_hit_rate = utils.Rolling(stats.Mean, window_size=max(1, window // rank_every))  # e.g. last 200
        self.n = 0
        self._positives = 0
        self._items: list[str] = []
        self._known: set[str] = set()
        self._rng = random.Random(seed)

    def update(
        self, user: str, item: str, y: float, x: Features | None = None, positive: bool = True
    ) -> PrequentialStep:
        prediction = self.learner.predict_one(user, item, x)
        error = abs(y - prediction)
        self.mae.update(y, prediction)
        self.rolling_mae.update(y, prediction)
        hit = shadow_hit = None
        if positive:
            self._positives += 1
            if self._positives % self.rank_every == 0 and len(self._items) >= self.candidates:
                pool = self._candidates(item)
                hit = item in self.learner.rank(user, pool, x)[: self.k]
                if self.shadow is not None:
                    shadow_hit = item in self.shadow.rank(user, pool, x)[: self.k]
                self.hit_rate.update(float(hit))
                self.rolling_hit_rate.update(float(hit))
        self.learner.learn_one(user, item, y, x)
        if item not in self._known:
            self._known.add(item)
            self._items.append(item)
        self.n += 1
        return PrequentialStep(prediction, error, hit, shadow_hit)

    def sample_item(self, exclude: str) -> str | None:
        """A random item among those seen so far, other than ``exclude`` (None until there are two)."""
        if len(self._items) < 2:
            return None
        while (candidate := self._items[self._rng.randrange(len(self._items))]) == exclude:
            pass
        return candidate

    def _candidates(self, item: str) -> set[str]:
        """The true item and ``candidates - 1`` others sampled from the items seen so far."""
        pool: set[str] = set()
        while len(pool) < self.candidates - 1:
            candidate = self._items[self._rng.randrange(len(self._items))]
            if candidate != item:
                pool.add(candidate)
        return pool | {item}


class ProbabilisticPrequential:
    """Test-then-train for a click model (``y`` in {0, 1}): log loss and ROC AUC, overall and rolling.

    >>> from models.learners import ContextualLogistic
    >>> p = ProbabilisticPrequential(ContextualLogistic())
    >>> for y in [1, 0] * 200:
    ...     _ = p.update("u", "good" if y else "bad", y, {"device": "ios"})
    >>> bool(p.auc.get() > 0.9), p.logloss.get() < 0.69
    (True, True)
    """

    def __init__(self, learner: Learner, window: int = 1000):
        self.learner = learner
        self.logloss = metrics.LogLoss()
        self.rolling_logloss = utils.Rolling(metrics.LogLoss, window_size=window)
        self.auc = BinnedAUC()
        self.n = 0

    def update(self, user: str, item: str, y: int, x: Features | None = None) -> float:
        """The probability predicted before learning from this event."""
        p = self.learner.predict_one(user, item, x)
        self.logloss.update(bool(y), p)
        self.rolling_logloss.update(bool(y), p)
        self.auc.update(bool(y), p)
        self.learner.learn_one(user, item, float(y), x)
        self.n += 1
        return p
