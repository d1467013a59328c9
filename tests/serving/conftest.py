"""A small trained two-stage model shared by the serving tests."""

import pytest

from models.batch.data import frame_from_events
from models.batch.pipeline import TrainConfig, train_and_evaluate
from streams.core.contracts import Interaction
from streams.sources.synthetic import SimulationConfig, simulate


@pytest.fixture(scope="session")
def model():
    sim = SimulationConfig(n_events=8_000, n_users=100, n_items=80, n_categories=4, seed=2)
    frame = frame_from_events([m for m in simulate(sim) if isinstance(m, Interaction)])
    return train_and_evaluate(frame, TrainConfig(use_sasrec=False)).model
