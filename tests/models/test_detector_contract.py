"""One contract suite over every drift detector: each has a name and ``update(x) -> list[Detection]``,
stays quiet on a stationary stream, detects a shift, and reports a statistic and threshold;
the retrain policy acts on any detector's detections."""

import random

import pytest

from models.drift import DataDriftWatch, ErrorMonitor, KSMonitor, PSIMonitor
from models.drift.detection import Detection, Detector
from models.policy import ModelHistory, RetrainPolicy, decide


def detectors():
    """(detector, a stationary observation, a shifted observation) for each implementation."""
    return [
        (ErrorMonitor(), lambda r: 0.2 + 0.05 * r.random(), lambda r: 0.9),
        (
            KSMonitor(
                {"score": [random.Random(i).gauss(0, 1) for i in range(1000)]},
                window=300,
                every=100,
                alpha=0.001,
                min_statistic=0.0,
            ),
            lambda r: {"score": r.gauss(0, 1)},
            lambda r: {"score": r.gauss(2, 1)},
        ),
        (
            PSIMonitor({"device": ["ios"] * 500 + ["web"] * 500}, window=300, every=100),
            lambda r: {"device": r.choice(["ios", "web"])},
            lambda r: {"device": "web"},
        ),
        (
            DataDriftWatch(
                ["score"],
                ["device"],
                reference_size=1000,
                ks_window=300,
                psi_window=300,
                every=100,
                ks_min_statistic=0.0,
            ),
            lambda r: {"score": r.gauss(0, 1), "device": r.choice(["ios", "web"])},
            lambda r: {"score": r.gauss(2, 1), "device": "web"},
        ),
    ]


@pytest.mark.parametrize("case", range(len(detectors())), ids=[type(d[0]).__name__ for d in detectors()])
def test_detector_contract(case):
    detector, stationary, shifted = detectors()[case]
    assert isinstance(detector, Detector) and detector.name
    rng = random.Random(case)
    quiet = [d for _ in range(3000) for d in detector.update(stationary(rng))]
    assert quiet == [], f"{detector.name}: false alarms on a stationary stream: {quiet[:2]}"
    found = [d for _ in range(2000) for d in detector.update(shifted(rng))]
    assert found and all(isinstance(d, Detection) for d in found)
    first = found[0]
    # readable: the statistic crossed the threshold, both on one scale
    assert all(d.statistic >= d.threshold for d in found), [(d.detector, d.statistic, d.threshold) for d in found[:3]]
    # the policy takes any detector's detection (no allow-list unless one is configured)
    decision = decide(RetrainPolicy(cooldown_s=0), ModelHistory(), now=1.0, detections=[first])
    assert decision.retrain and decision.trigger == "drift" and first.detector in decision.reason


def test_a_configured_allow_list_says_what_it_ignored():
    detection = Detection("brand_new", "data", "x", 1.0, 0.5, None, 10, 10)
    decision = decide(RetrainPolicy(drift_detectors=frozenset({"ks"})), ModelHistory(), now=1.0, detections=[detection])
    assert not decision.retrain and "ignored drift from brand_new" in decision.reason
