"""Bernoulli arms, Thompson sampling and the allocation rules, pure (numpy only): the one home of
the bandit maths that experiments (variants) and cold-start exploration (items) share.

An arm is (impressions, conversions). Posteriors are Beta(prior_a + conversions,
prior_b + impressions - conversions), with a uniform prior (1, 1) unless one is given.

>>> arms = {"A": Arm(1000, 50), "B": Arm(1000, 80)}
>>> p = probability_to_be_best(arms, draws=20_000, seed=1)
>>> p["B"] > 0.99 and abs(sum(p.values()) - 1) < 1e-9
True
>>> bucket("user-1", "exp-1") == bucket("user-1", "exp-1")  # sticky per user and experiment
True
>>> split_choice(0.3, {"A": 50, "B": 50})
'A'
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Arm:
    impressions: int = 0
    conversions: int = 0

    @property
    def rate(self) -> float:
        return self.conversions / self.impressions if self.impressions else 0.0

    def beta(self, prior: tuple[float, float] = (1.0, 1.0)) -> tuple[float, float]:
        failures = max(self.impressions - self.conversions, 0)
        return prior[0] + self.conversions, prior[1] + failures


def thompson_draws(
    arms: Sequence[Arm], rng: np.random.Generator, priors: Sequence[tuple[float, float]] | None = None
) -> np.ndarray:
    """One draw from each arm's posterior."""
    priors = priors or [(1.0, 1.0)] * len(arms)
    return np.array([rng.beta(*arm.beta(prior)) for arm, prior in zip(arms, priors, strict=True)])


def bucket(user_id: str, salt: str) -> float:
    """A stable number in [0, 1) per (user, experiment): the same user always lands in the same split."""
    digest = hashlib.blake2b(f"{salt}:{user_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def split_choice(u: float, weights: Mapping[str, float]) -> str:
    """The variant whose share of [0, 1) contains ``u`` (weights need not sum to 1)."""
    total = sum(weights.values())
    edge = 0.0
    for name, weight in weights.items():
        edge += weight / total
        if u < edge:
            return name
    return next(reversed(list(weights)))


def thompson_choice(arms: Mapping[str, Arm], rng: np.random.Generator) -> str:
    """One draw from each posterior; the highest wins (allocation proportional to P(best))."""
    names = list(arms)
    return names[int(np.argmax(thompson_draws([arms[n] for n in names], rng)))]


def prior_mean(rank: int, top: float = 0.1) -> float:
    """The prior conversion rate of the ``rank``-th item (0-based) of a model's own ordering."""
    return top / (1.0 + rank / 10.0)


def exploration_share(impressions: int, conversions: int, share: float = 0.1, patience: int = 1_000) -> float:
    """The share of cold-start lists the bandit samples; the others keep the model's own order.

    Once a reward has come back every list is sampled. Until then only ``share`` of them are, and
    that share fades as impressions go unrewarded: a stream that never attributes rewards (events
    without ``recommendation_id``) ends up with the model's order, never a worse one.

    >>> exploration_share(0, 0), exploration_share(9_000, 0), exploration_share(50, 1)
    (0.1, 0.01, 1.0)
    """
    if conversions > 0:
        return 1.0
    return share * patience / (patience + max(impressions, 0))


def calibrated_top(impressions: int, conversions: int, default: float = 0.1) -> float:
    """The prior rate of the model's first item: twice the observed rate per impression (a
    model's top items convert above the average), so an item shown without clicks sinks only
    when it converts below what the context's items do, not merely below an arbitrary prior.

    >>> calibrated_top(0, 0), calibrated_top(10_000, 50)
    (0.1, 0.01)
    """
    if conversions <= 0 or impressions <= 0:
        return default
    return float(min(0.5, max(2.0 * conversions / impressions, 1e-4)))


def thompson_rank(
    candidates: Sequence[str],
    counts: Mapping[str, tuple[int, int]],
    k: int,
    rng: np.random.Generator,
    strength: float = 20.0,
    top: float = 0.1,
) -> list[tuple[str, float]]:
    """The top ``k`` of ``candidates`` by one posterior draw each. ``counts``: item ->
    (impressions, conversions); the prior follows the candidates' order, worth ``strength``
    impressions, with ``top`` the prior rate of the first candidate.

    >>> ranked = thompson_rank(["a", "b", "c"], {"c": (500, 100)}, k=2, rng=np.random.default_rng(0))
    >>> ranked[0][0]  # c earned 20 % clicks, far above the prior's 10 %
    'c'
    """
    arms = [Arm(*counts.get(item, (0, 0))) for item in candidates]
    means = [prior_mean(r, top) for r in range(len(candidates))]
    priors = [(1e-3 + strength * m, 1e-3 + strength * (1 - m)) for m in means]
    draws = thompson_draws(arms, rng, priors)
    order = np.argsort(-draws, kind="stable")[:k]
    return [(candidates[i], float(draws[i])) for i in order]


def epsilon_greedy_choice(arms: Mapping[str, Arm], epsilon: float, rng: np.random.Generator) -> str:
    """With probability ``epsilon`` a uniform variant, else the best observed rate (ties: first)."""
    names = list(arms)
    if rng.random() < epsilon:
        return names[int(rng.integers(len(names)))]
    return max(names, key=lambda n: arms[n].rate)


def probability_to_be_best(arms: Mapping[str, Arm], draws: int = 10_000, seed: int = 0) -> dict[str, float]:
    """Monte Carlo P(variant has the highest conversion rate) under the Beta posteriors."""
    rng = np.random.default_rng(seed)
    names = list(arms)
    samples = np.column_stack([rng.beta(*arms[n].beta(), size=draws) for n in names])
    wins = np.bincount(samples.argmax(axis=1), minlength=len(names))
    return {n: float(w) / draws for n, w in zip(names, wins, strict=True)}
