"""What an experiment is, how it allocates a request, and what its numbers lead to -- pure.

>>> spec = ExperimentSpec(name="new ranker", variants=[Variant(name="control", model="champion"),
...                       Variant(name="challenger", model="challenger")], policy="canary", min_impressions=100)
>>> exp = Experiment.from_spec(spec, "e1").model_copy(update={"status": "running"})
>>> stats = {"control": VariantStats(1000, 50, 0, 3000.0), "challenger": VariantStats(100, 9, 0, 320.0)}
>>> decide(exp, stats).action  # stage 1 (5%) held up: go to 25%
'advance'
>>> bad = stats | {"challenger": VariantStats(100, 9, 0, 900.0)}  # 9 ms a request vs 3 ms
>>> decide(exp, bad).action, decide(exp, bad).reason
('rollback', 'guardrail: challenger mean latency 9.0 ms > 1.5 x control 3.0 ms + 1 ms')
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from statistics import NormalDist
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field, StrictBool, model_validator

from models.bandits import (
    Arm,
    bucket,
    epsilon_greedy_choice,
    probability_to_be_best,
    split_choice,
    thompson_choice,
)
from streams.core import events
from streams.core.contracts import EventType, JsonInt

Policy = Literal["fixed", "epsilon_greedy", "thompson", "canary"]
Status = Literal["draft", "running", "stopped", "promoted", "rolled_back", "completed"]
Name = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")


class Variant(BaseModel):
    model_config = {"extra": "forbid"}
    name: str = Name
    model: str = Field(min_length=1, max_length=64, description="a registry alias (champion, challenger) or a version")


class Guardrails(BaseModel):
    model_config = {"extra": "forbid"}
    max_latency_ratio: float = Field(
        1.5, gt=1.0, strict=True, description="a variant's mean latency may be at most this x control's (+1 ms)"
    )
    max_fallback_rate_increase: float = Field(
        0.01, ge=0.0, le=1.0, strict=True, description="a variant's fallback rate may exceed control's by this much"
    )


class ExperimentSpec(BaseModel):
    """What a caller posts to ``POST /experiments``. The first variant is the control."""

    model_config = {"extra": "forbid"}
    name: str = Field(min_length=1, max_length=128)
    model_name: str = Field("ranker", min_length=1, max_length=128)
    variants: list[Variant] = Field(min_length=2, max_length=8)
    policy: Policy = "thompson"
    weights: list[float] | None = Field(None, strict=True, description="fixed split only: one weight per variant")
    epsilon: float = Field(0.1, ge=0.0, le=1.0, strict=True)
    canary_stages: list[float] = Field(default_factory=lambda: [5.0, 25.0, 50.0, 100.0], min_length=1, strict=True)
    reward_events: list[EventType] = Field(
        default_factory=lambda: sorted(EventType(e) for e in events.positive_names())
    )
    min_impressions: JsonInt = Field(200, ge=1, description="per variant (per canary stage) before any decision")
    confidence: float = Field(0.95, gt=0.5, lt=1.0, strict=True)
    auto_promote: StrictBool = False
    guardrails: Guardrails = Field(default_factory=Guardrails)

    @model_validator(mode="after")
    def _consistent(self) -> ExperimentSpec:
        names = [v.name for v in self.variants]
        if len(set(names)) != len(names):
            raise ValueError("variant names must be unique")
        if self.weights is not None and (
            len(self.weights) != len(self.variants) or min(self.weights) < 0 or sum(self.weights) <= 0
        ):
            raise ValueError("weights: one non-negative weight per variant, not all zero")
        if self.policy == "canary":
            if len(self.variants) != 2:
                raise ValueError("a canary has exactly two variants: control, then challenger")
            if any(not 0 < s <= 100 for s in self.canary_stages) or self.canary_stages != sorted(self.canary_stages):
                raise ValueError("canary_stages: increasing percentages in (0, 100]")
        return self


class Experiment(ExperimentSpec):
    experiment_id: str
    status: Status = "draft"
    created_at: datetime
    started_at: datetime | None = None
    stopped_at: datetime | None = None
    stage: int = 0  # canary: index into canary_stages
    looks: int = 0  # bandit and fixed splits: interim analyses done (see decide)
    stage_start: dict[str, int] = Field(default_factory=dict)  # canary: impressions per variant when the stage began
    winner: str | None = None
    outcome: str | None = None

    @classmethod
    def from_spec(cls, spec: ExperimentSpec, experiment_id: str | None = None) -> Experiment:
        return cls(
            **spec.model_dump(), experiment_id=experiment_id or uuid.uuid4().hex[:12], created_at=datetime.now(UTC)
        )

    @property
    def control(self) -> str:
        return self.variants[0].name

    def canary_share(self) -> float:
        return self.canary_stages[min(self.stage, len(self.canary_stages) - 1)] / 100.0


@dataclass(frozen=True)
class VariantStats:
    impressions: int = 0
    conversions: int = 0
    fallbacks: int = 0
    latency_ms: float = 0.0  # sum over impressions

    @property
    def arm(self) -> Arm:
        return Arm(self.impressions, min(self.conversions, self.impressions))

    @property
    def mean_latency_ms(self) -> float:
        return self.latency_ms / self.impressions if self.impressions else 0.0

    @property
    def fallback_rate(self) -> float:
        return self.fallbacks / self.impressions if self.impressions else 0.0


@dataclass(frozen=True)
class Decision:
    action: Literal["none", "advance", "look", "promote", "rollback", "complete"]
    reason: str
    winner: str | None = None


MAX_LOOKS = 6  # the horizon: min_impressions x 32 per variant
MIN_SHARE = 0.1  # Thompson sampling: the least share of traffic each variant gets (no arm is starved)


def spent_by(look: int, alpha: float) -> float:
    """The error budget spent by the end of ``look`` (1..MAX_LOOKS): an O'Brien-Fleming-type
    spending function (Lan and DeMets), alpha(t) = 2 (1 - Phi(z_{1 - alpha/2} / sqrt(t))) at the
    share t of the horizon's impressions. Early looks, on little data, spend almost nothing; the
    last one keeps nearly the whole budget, so the horizon decides almost as a single test would.

    >>> [round(spent_by(look, 0.05), 5) for look in range(1, MAX_LOOKS + 1)]
    [0.0, 0.0, 0.0, 9e-05, 0.00557, 0.05]
    """
    t = 2 ** (look - MAX_LOOKS)  # looks double the impressions: 1/32, 1/16, ..., 1
    normal = NormalDist()
    return 2 * (1 - normal.cdf(normal.inv_cdf(1 - alpha / 2) / math.sqrt(t)))


def look_budget(look: int, alpha: float) -> float:
    """The error budget look ``look`` may spend: what the spending function adds at it.

    >>> round(1 - look_budget(MAX_LOOKS, 0.05), 4), round(1 - look_budget(MAX_LOOKS - 1, 0.05), 4)
    (0.9556, 0.9945)
    """
    return spent_by(look, alpha) - (spent_by(look - 1, alpha) if look > 1 else 0.0)


def allocate(experiment: Experiment, user_id: str, stats: Mapping[str, VariantStats], rng: np.random.Generator) -> str:
    """The variant that serves this request."""
    names = [v.name for v in experiment.variants]
    arms = {n: stats.get(n, VariantStats()).arm for n in names}
    if experiment.policy == "fixed":
        weights = experiment.weights or [1.0] * len(names)
        return split_choice(bucket(user_id, experiment.experiment_id), dict(zip(names, weights, strict=True)))
    if experiment.policy == "canary":  # sticky: a user stays on one side within a stage
        return names[1] if bucket(user_id, experiment.experiment_id) < experiment.canary_share() else names[0]
    if experiment.policy == "epsilon_greedy":
        return epsilon_greedy_choice(arms, experiment.epsilon, rng)
    if rng.random() < MIN_SHARE * len(names):  # every variant keeps a share, so its estimate keeps improving
        return names[int(rng.integers(len(names)))]
    return thompson_choice(arms, rng)


def guardrail_breach(experiment: Experiment, stats: Mapping[str, VariantStats], variant: str) -> str | None:
    """Why ``variant`` fails a guardrail against the control, or None."""
    control, mine = stats.get(experiment.control, VariantStats()), stats.get(variant, VariantStats())
    if variant == experiment.control or mine.impressions < experiment.min_impressions or not control.impressions:
        return None
    g = experiment.guardrails
    if mine.mean_latency_ms > g.max_latency_ratio * control.mean_latency_ms + 1.0:
        return (
            f"guardrail: {variant} mean latency {mine.mean_latency_ms:.1f} ms > {g.max_latency_ratio:g} x "
            f"control {control.mean_latency_ms:.1f} ms + 1 ms"
        )
    if mine.fallback_rate > control.fallback_rate + g.max_fallback_rate_increase:
        return (
            f"guardrail: {variant} fallback rate {mine.fallback_rate:.3f} > control "
            f"{control.fallback_rate:.3f} + {g.max_fallback_rate_increase:g}"
        )
    return None


def decide(experiment: Experiment, stats: Mapping[str, VariantStats]) -> Decision:
    """What the controller should do now (it re-decides every few seconds)."""
    if experiment.status != "running":
        return Decision("none", f"experiment is {experiment.status}")
    names = [v.name for v in experiment.variants]
    arms = {n: stats.get(n, VariantStats()).arm for n in names}
    p_best = probability_to_be_best(arms)
    if experiment.policy == "canary":
        challenger = names[1]
        if breach := guardrail_breach(experiment, stats, challenger):
            return Decision("rollback", breach)
        in_stage = arms[challenger].impressions - experiment.stage_start.get(challenger, 0)
        if in_stage < experiment.min_impressions:
            return Decision(
                "none", f"stage {experiment.stage + 1}: {in_stage}/{experiment.min_impressions} impressions"
            )
        # tested once per stage, so the error budget is split across the stages (Bonferroni)
        floor = (1 - experiment.confidence) / len(experiment.canary_stages)
        if p_best[challenger] <= floor:
            return Decision(
                "rollback",
                f"{challenger} converts worse than control (P(best) {p_best[challenger]:.4f} <= {floor:.4f})",
            )
        if experiment.stage + 1 < len(experiment.canary_stages):
            return Decision(
                "advance",
                f"stage {experiment.stage + 1} held up "
                f"({experiment.canary_stages[experiment.stage]:g}% -> "
                f"{experiment.canary_stages[experiment.stage + 1]:g}%)",
            )
        if experiment.auto_promote:
            return Decision("promote", "canary reached 100% with guardrails holding", challenger)
        return Decision("complete", "canary reached 100% with guardrails holding; promote by hand", challenger)
    # Group-sequential: looks at min_impressions x 1, 2, 4, ... impressions per variant on average
    # (every variant with at least min_impressions; MAX_LOOKS of them); each look may declare a
    # winner only at P(best) >= 1 - its share of the error budget (spent_by), so the budget summed
    # over every look stays under 1 - confidence however long the experiment is watched.
    smallest = min(a.impressions for a in arms.values())
    mean = sum(a.impressions for a in arms.values()) / len(arms)
    due = experiment.min_impressions * 2**experiment.looks
    if smallest < experiment.min_impressions or mean < due:
        return Decision(
            "none", f"look {experiment.looks + 1} at {due} impressions per variant on average ({mean:.0f} so far)"
        )
    look = experiment.looks + 1
    needed = 1 - look_budget(look, 1 - experiment.confidence)
    best = max(p_best, key=p_best.get)
    last = look >= MAX_LOOKS
    if p_best[best] < needed or best == experiment.control:
        why = f"look {look}: leader {best} at P(best) {p_best[best]:.4f} (a winner needs {needed:.4f})"
        return Decision("complete", f"{why}; no winner by the last look") if last else Decision("look", why)
    if breach := guardrail_breach(experiment, stats, best):
        why = f"look {look}: {best} leads but fails a {breach}"
        return Decision("complete", why) if last else Decision("look", why)
    if experiment.auto_promote:
        return Decision(
            "promote",
            f"{best} wins at look {look}: P(best) {p_best[best]:.4f} >= {needed:.4f} with guardrails holding",
            best,
        )
    return Decision("none", f"{best} wins at look {look}: P(best) {p_best[best]:.4f}; promote by hand", best)


def results(experiment: Experiment, stats: Mapping[str, VariantStats]) -> dict:
    """Conversion rates, lift against control, probability to be best, guardrail figures."""
    names = [v.name for v in experiment.variants]
    arms = {n: stats.get(n, VariantStats()).arm for n in names}
    p_best = probability_to_be_best(arms)
    base = arms[experiment.control].rate
    rows = []
    for variant in experiment.variants:
        s = stats.get(variant.name, VariantStats())
        rows.append(
            {
                "variant": variant.name,
                "model": variant.model,
                "impressions": s.impressions,
                "conversions": s.conversions,
                "conversion_rate": round(arms[variant.name].rate, 5),
                "lift_vs_control": round(arms[variant.name].rate / base - 1, 4) if base else None,
                "probability_to_be_best": round(p_best[variant.name], 4),
                "mean_latency_ms": round(s.mean_latency_ms, 3),
                "fallback_rate": round(s.fallback_rate, 5),
                "guardrail": guardrail_breach(experiment, stats, variant.name),
            }
        )
    decision = decide(experiment, stats)
    return {
        "experiment": experiment.model_dump(mode="json"),
        "variants": rows,
        "decision": {"action": decision.action, "reason": decision.reason, "winner": decision.winner},
    }
