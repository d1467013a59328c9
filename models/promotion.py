"""Whether a challenger becomes champion: pure, so the rule is tested without MLflow.

>>> decide_promotion({"ndcg@10": 0.12}, {"ndcg@10": 0.05}, champion=None, gates=QualityGates())
Promotion(promote=True, reason='no champion yet; passes the quality gates')
>>> decide_promotion({"ndcg@10": 0.101}, {"ndcg@10": 0.05}, champion={"ndcg@10": 0.1}, gates=QualityGates(margin=0.02))
Promotion(promote=False, reason='ndcg@10 0.1010 does not beat the champion 0.1000 by 2.0% on the same holdout')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class QualityGates:
    metric: str = "ndcg@10"
    margin: float = 0.0  # relative improvement over the champion needed to promote
    min_over_popularity: float = 1.0  # the new model must reach this multiple of the popularity baseline
    min_test_users: int = 1


@dataclass(frozen=True)
class Promotion:
    promote: bool
    reason: str


def decide_promotion(
    candidate: Mapping[str, float],
    popularity: Mapping[str, float],
    champion: Mapping[str, float] | None,
    gates: QualityGates,
    test_users: int = 1,
) -> Promotion:
    m = gates.metric
    value = candidate[m]
    if test_users < gates.min_test_users:
        return Promotion(False, f"only {test_users} test users (gate: {gates.min_test_users})")
    floor = popularity[m] * gates.min_over_popularity
    if value < floor:
        return Promotion(False, f"{m} {value:.4f} is below the popularity gate {floor:.4f}")
    if champion is None:
        return Promotion(True, "no champion yet; passes the quality gates")
    needed = champion[m] * (1 + gates.margin)
    if value > needed or (gates.margin == 0 and value >= champion[m] and value > 0):
        return Promotion(True, f"{m} {value:.4f} beats the champion {champion[m]:.4f} on the same holdout")
    return Promotion(
        False, f"{m} {value:.4f} does not beat the champion {champion[m]:.4f} by {gates.margin:.1%} on the same holdout"
    )
