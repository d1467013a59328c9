"""Bernoulli arms and the allocation rules, pure (numpy only).

An arm is a variant's (impressions, conversions). Posteriors are Beta(1 + conversions,
1 + impressions - conversions).

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
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Arm:
    impressions: int = 0
    conversions: int = 0

    @property
    def rate(self) -> float:
        return self.conversions / self.impressions if self.impressions else 0.0

    def beta(self) -> tuple[float, float]:
        failures = max(self.impressions - self.conversions, 0)
        return 1.0 + self.conversions, 1.0 + failures


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
    draws = [rng.beta(*arms[n].beta()) for n in names]
    return names[int(np.argmax(draws))]


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
