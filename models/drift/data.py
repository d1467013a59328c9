"""Data drift: KS tests on numeric streams against a frozen reference, PSI for categories.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> m = KSMonitor({"score": rng.normal(0, 1, 2000)}, window=500, every=100, alpha=0.01)
>>> [d for v in rng.normal(0, 1, 3000) for d in m.update({"score": v})]
[]
>>> hits = [d for v in rng.normal(1.0, 1, 1000) for d in m.update({"score": v})]
>>> hits[0].detector, hits[0].subject, hits[0].p_value < 0.01
('ks', 'score', True)
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterable, Mapping

import numpy as np
from scipy.stats import ks_2samp

from models.drift.detection import Detection


class KSMonitor:
    """Two-sample KS per feature, current window vs the reference, tested every ``every`` values.

    ``alpha`` is the family-wise level: each test uses ``alpha / n_features`` (Bonferroni).
    After a detection the feature's window restarts, so one shift is reported once per window.
    """

    def __init__(self, reference: Mapping[str, Iterable[float]], window: int = 500, every: int = 100,
                 alpha: float = 0.01):
        self.reference = {k: np.asarray(list(v), dtype=float) for k, v in reference.items()}
        self.window, self.every = window, every
        self.level = alpha / max(1, len(self.reference))
        self.current = {k: deque(maxlen=window) for k in self.reference}
        self.seen = {k: 0 for k in self.reference}

    def update(self, values: Mapping[str, float]) -> list[Detection]:
        found = []
        for name, value in values.items():
            if name not in self.current or value is None or not np.isfinite(value):
                continue
            window = self.current[name]
            window.append(float(value))
            self.seen[name] += 1
            if len(window) == self.window and self.seen[name] % self.every == 0:
                result = ks_2samp(self.reference[name], np.fromiter(window, float), method="asymp")
                if result.pvalue < self.level:
                    found.append(Detection("ks", "data", name, float(result.statistic), self.level,
                                           float(result.pvalue), self.seen[name], len(window)))
                    window.clear()
        return found


def psi(reference: Iterable[str], current: Iterable[str], epsilon: float = 1e-4) -> float:
    """Population stability index of two categorical samples (> 0.2 is usually called a shift).

    >>> round(psi(["a"] * 50 + ["b"] * 50, ["a"] * 50 + ["b"] * 50), 6)
    0.0
    >>> psi(["a"] * 90 + ["b"] * 10, ["a"] * 10 + ["b"] * 90) > 0.2
    True
    """
    ref, cur = Counter(reference), Counter(current)
    n_ref, n_cur = sum(ref.values()) or 1, sum(cur.values()) or 1
    total = 0.0
    for category in set(ref) | set(cur):
        p = max(ref[category] / n_ref, epsilon)
        q = max(cur[category] / n_cur, epsilon)
        total += (q - p) * np.log(q / p)
    return float(total)
