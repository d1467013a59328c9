"""Concept drift on the generator's stream. ADWIN and Page-Hinkley watch the top-10 miss rate of
a *reference* ranker frozen after a warm-up (what a batch model trained then would know),
scored on the same sampled candidates as the live one. The preference shift is detected
within a bounded delay; stationary streams of 100k events raise nothing."""

import copy

import pytest

from models.drift import ErrorMonitor
from models.evaluation import Prequential
from models.learners import IMPLICIT_RANKER, MatrixFactorization, implicit_target, is_positive
from streams.core.contracts import Interaction
from streams.sources.synthetic import SimulationConfig, SimulationFacts, simulate

MAX_DELAY_EVENTS = 5_000
WARM_UP = 10_000


def detections(n_events: int, shift_at: float | None, seed: int = 5, model_seed: int = 73):
    facts = SimulationFacts()
    # stationary = no preference shift and no new users or items (a frozen model would age with them)
    config = SimulationConfig(
        n_events=n_events,
        n_users=300,
        n_items=300,
        n_categories=10,
        shift_at=shift_at,
        seed=seed,
        new_user_share=0.0,
        new_item_share=0.0,
    )
    prequential = Prequential(
        MatrixFactorization(seed=model_seed, **IMPLICIT_RANKER), rank_every=5, candidates=50, k=10
    )
    monitor = ErrorMonitor(subject="reference_top10_miss", ph_delta=0.02)
    found = []
    for n, message in enumerate(m for m in simulate(config, facts) if isinstance(m, Interaction)):
        kind = message.event_type.value
        if kind == "view":
            continue
        if prequential.shadow is None and n >= WARM_UP:
            prequential.shadow = copy.deepcopy(prequential.learner)
        step = prequential.update(
            message.user_id,
            message.item_id,
            implicit_target(kind, message.value),
            positive=is_positive(kind, message.value),
        )
        if step.shadow_hit is not None:
            found += [(n, d) for d in monitor.update(0.0 if step.shadow_hit else 1.0)]
    return found, facts, prequential


def test_the_ranker_learns_tastes_well_above_random():
    _, _, prequential = detections(20_000, shift_at=None)
    assert prequential.hit_rate.get() > 2 * 10 / 50  # random ranking would hit k/candidates = 0.2


@pytest.mark.parametrize("model_seed", [73, 1])
def test_preference_shift_is_detected_within_a_bounded_delay(model_seed):
    found, facts, _ = detections(45_000, shift_at=2 / 3, model_seed=model_seed)
    assert found, "the shift went unnoticed"
    first_index, first = found[0]
    assert facts.shift_event_index <= first_index <= facts.shift_event_index + MAX_DELAY_EVENTS
    assert first.kind == "concept" and first.subject == "reference_top10_miss"


@pytest.mark.parametrize("seed", [5, 6])
def test_stationary_stream_of_100k_events_raises_nothing(seed):
    found, _, _ = detections(100_000, shift_at=None, seed=seed)
    assert found == []
