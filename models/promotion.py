"""Whether a challenger becomes champion: pure, so the rule is tested without MLflow.

A challenger must reach every baseline trained in the same job (not only popularity) and beat
the champion on the same holdout. The champion is the incumbent: when the paired interval of
the difference is known, it must lie above zero (``QualityGates.clearly_better``). A point
estimate ahead by noise is no reason to switch: in the demo, nine retrained models promoted
that way all converted worse live than the champion they replaced.

>>> baselines = {"popularity": {"ndcg@10": 0.05}, "item_knn": {"ndcg@10": 0.11}}
>>> decide_promotion({"ndcg@10": 0.12}, baselines, champion=None, gates=QualityGates())
Promotion(promote=True, reason='no champion yet; reaches every baseline (best: item_knn 0.1100)')
>>> decide_promotion({"ndcg@10": 0.10}, baselines, champion=None, gates=QualityGates()).reason
'ndcg@10 0.1000 is below the baseline item_knn 0.1100 trained in the same job'
>>> decide_promotion({"ndcg@10": 0.101}, {}, champion={"ndcg@10": 0.1}, gates=QualityGates(margin=0.02)).reason
'ndcg@10 0.1010 does not beat the champion 0.1000 by 2.0% on the same holdout'
>>> close = decide_promotion({"ndcg@10": 0.12}, {}, {"ndcg@10": 0.11}, QualityGates(), 200, (-0.004, 0.024))
>>> close.promote, close.reason
(False, 'ndcg@10 0.1200 is ahead of the champion 0.1100 only within the noise (difference +0.0100, 95% interval [-0.0040, +0.0240], 200 users)')
>>> decide_promotion({"ndcg@10": 0.12}, {}, {"ndcg@10": 0.11}, QualityGates(), 200, (0.002, 0.018)).promote
True

It must also order what users were shown at least as well as the champion (a guardrail: the
mean over the same visits, not below). Ahead on the next items users took up, a retrained model
can still order the shown items worse by what users chose: in the demo, such retrains lost the
live experiment 0.53 and 0.58 to 0.62 and 0.64.

>>> worse = ChoiceCheck(challenger=0.780, champion=0.798, visits=308, low=-0.0325, high=-0.0021)
>>> decide_promotion({"ndcg@10": 0.12}, {}, {"ndcg@10": 0.11}, QualityGates(), 200, (0.002, 0.018), worse).reason
'orders what the holdout showed worse than the champion by what users chose: choice NDCG 0.7800 against 0.7980 (difference -0.0180, 95% interval [-0.0325, -0.0021], 308 visits)'
>>> level = ChoiceCheck(challenger=0.801, champion=0.798, visits=308, low=-0.012, high=+0.018)
>>> decide_promotion({"ndcg@10": 0.12}, {}, {"ndcg@10": 0.11}, QualityGates(), 200, (0.002, 0.018), level).promote
True
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from models.batch.metrics import paired_interval

MIN_CHOICE_VISITS = 30  # fewer shown-and-chosen visits in the holdout: the choice check does not apply


@dataclass(frozen=True)
class QualityGates:
    metric: str = "ndcg@10"
    margin: float = 0.0  # relative improvement over the champion needed to promote
    min_over_baselines: float = 1.0  # the new model must reach this multiple of every baseline of its job
    min_test_users: int = 20  # fewer users in the holdout: too little evidence to decide either way
    clearly_better: bool = True  # replacing a champion needs the paired interval above zero
    # a challenger below the champion at ordering shown items by what was chosen stays out
    choice_guard: bool = True


@dataclass(frozen=True)
class ChoiceCheck:
    """Challenger and champion on the holdout's visits (:mod:`models.batch.impressions`): their
    mean choice NDCG over the same visits and the 95% interval of the difference."""

    challenger: float
    champion: float
    visits: int
    low: float
    high: float

    @classmethod
    def of(cls, challenger: Sequence[float], champion: Sequence[float]) -> ChoiceCheck | None:
        """From per-visit scores (NaN: not scored); None with fewer than ``MIN_CHOICE_VISITS`` visits both scored.

        >>> ChoiceCheck.of([0.5] * 40, [0.7] * 40).worse, ChoiceCheck.of([0.5] * 10, [0.7] * 10)
        (True, None)
        """
        pairs = [(a, b) for a, b in zip(challenger, champion, strict=True) if not (math.isnan(a) or math.isnan(b))]
        if len(pairs) < MIN_CHOICE_VISITS:
            return None
        a, b = [p[0] for p in pairs], [p[1] for p in pairs]
        low, high = paired_interval(a, b)
        return cls(sum(a) / len(a), sum(b) / len(b), len(pairs), low, high)

    @property
    def worse(self) -> bool:
        """Below the champion: a guardrail, so the challenger must at least match the incumbent
        (in the demo, retrains below it by 0.014-0.022 all lost live, one inside its interval)."""
        return self.challenger < self.champion

    def describe(self) -> str:
        return (
            f"choice NDCG {self.challenger:.4f} against {self.champion:.4f} (difference "
            f"{self.challenger - self.champion:+.4f}, 95% interval [{self.low:+.4f}, {self.high:+.4f}], {self.visits} visits)"
        )


@dataclass(frozen=True)
class Promotion:
    promote: bool
    reason: str


def decide_promotion(
    candidate: Mapping[str, float],
    baselines: Mapping[str, Mapping[str, float]],
    champion: Mapping[str, float] | None,
    gates: QualityGates,
    test_users: int = 20,
    champion_interval: tuple[float, float] | None = None,
    choice: ChoiceCheck | None = None,
) -> Promotion:
    """``champion_interval``: the bootstrap interval of (candidate - champion) on the holdout,
    quoted in the reason so that a close call reads as one. ``choice``: the two on the holdout's
    shown lists (None: too few to tell)."""
    m = gates.metric
    value = candidate[m]
    if test_users < gates.min_test_users:
        return Promotion(False, f"only {test_users} test users (gate: {gates.min_test_users})")
    best = max(baselines, key=lambda name: baselines[name][m], default=None)
    if best is not None and value < baselines[best][m] * gates.min_over_baselines:
        return Promotion(
            False, f"{m} {value:.4f} is below the baseline {best} {baselines[best][m]:.4f} trained in the same job"
        )
    if champion is None:
        detail = f" (best: {best} {baselines[best][m]:.4f})" if best is not None else ""
        return Promotion(True, f"no champion yet; reaches every baseline{detail}")
    needed = champion[m] * (1 + gates.margin)
    quoted = (
        f" (difference {value - champion[m]:+.4f}, 95% interval [{champion_interval[0]:+.4f}, {champion_interval[1]:+.4f}],"
        f" {test_users} users)"
        if champion_interval is not None
        else ""
    )
    if value > needed or (gates.margin == 0 and value >= champion[m] and value > 0):
        if gates.clearly_better and champion_interval is not None and champion_interval[0] <= 0:
            return Promotion(
                False, f"{m} {value:.4f} is ahead of the champion {champion[m]:.4f} only within the noise{quoted}"
            )
        if gates.choice_guard and choice is not None and choice.worse:
            return Promotion(
                False,
                f"orders what the holdout showed worse than the champion by what users chose: {choice.describe()}",
            )
        shown = f"; on what it showed, {choice.describe()}" if choice is not None else ""
        return Promotion(
            True, f"{m} {value:.4f} beats the champion {champion[m]:.4f} on the same holdout{quoted}{shown}"
        )
    return Promotion(
        False,
        f"{m} {value:.4f} does not beat the champion {champion[m]:.4f} by {gates.margin:.1%} on the same holdout{quoted}",
    )
