"""BinnedAUC against the exact AUC (every positive-negative pair) on random streams."""

import random

import pytest

from models.evaluation.auc import BinnedAUC


def exact_auc(pairs):
    positives = [p for y, p in pairs if y]
    negatives = [p for y, p in pairs if not y]
    ordered = sum((p > n) + 0.5 * (p == n) for p in positives for n in negatives)
    return ordered / (len(positives) * len(negatives))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_binned_auc_matches_the_exact_auc_within_the_bin_width(seed):
    rng = random.Random(seed)
    pairs = []
    for _ in range(2000):
        y = rng.random() < 0.3
        pairs.append((y, min(max(rng.gauss(0.6 if y else 0.4, 0.2), 0.0), 1.0)))
    auc = BinnedAUC()
    for y, p in pairs:
        auc.update(y, p)
    assert auc.get() == pytest.approx(exact_auc(pairs), abs=2e-3)
    assert 0.7 < auc.get() < 0.9  # the two classes overlap: neither trivial nor random
