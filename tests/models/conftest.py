import pytest

from models.batch.data import frame_from_events
from streams.core.contracts import Interaction, Item
from streams.sources.synthetic import SimulationConfig, simulate


def small_world(seed: int):
    """(interaction frame, item -> main category) of a small synthetic world: 15,000 events,
    200 users, 150 items, 6 categories."""
    sim = SimulationConfig(n_events=15_000, n_users=200, n_items=150, n_categories=6, seed=seed)
    messages = list(simulate(sim))
    frame = frame_from_events([m for m in messages if isinstance(m, Interaction)])
    categories = {m.item_id: m.categories[0] for m in messages if isinstance(m, Item) and m.categories}
    return frame, categories


@pytest.fixture(scope="session")
def world():
    """Builds :func:`small_world` for a seed."""
    return small_world
