from collections import Counter

import numpy as np
import pytest

from streams.core.contracts import Interaction, Item
from streams.sources.synthetic import SimulationConfig, SimulationFacts, simulate


def run(**kw):
    facts = SimulationFacts()
    messages = list(simulate(SimulationConfig(**kw), facts))
    return [m for m in messages if isinstance(m, Interaction)], [m for m in messages if isinstance(m, Item)], facts


@pytest.fixture(scope="module")
def stream():
    return run(n_events=30_000, n_users=500, n_items=400, n_categories=10, shift_at=0.5, seed=3)


def test_same_seed_same_stream_other_seed_other_stream():
    a, _, _ = run(n_events=2_000, seed=1)
    b, _, _ = run(n_events=2_000, seed=1)
    c, _, _ = run(n_events=2_000, seed=2)
    assert a == b
    assert [e.item_id for e in a] != [e.item_id for e in c]


def test_exact_count_time_order_and_unique_ids(stream):
    events, _, _ = stream
    assert len(events) == 30_000
    times = [e.timestamp for e in events]
    assert times == sorted(times)
    assert len({e.event_id for e in events}) == len(events)


def test_item_popularity_is_heavy_tailed(stream):
    events, _, _ = stream
    counts = np.array(sorted(Counter(e.item_id for e in events).values(), reverse=True))
    top_share = counts[: len(counts) // 10].sum() / counts.sum()
    assert top_share > 0.35  # the top 10% of items get well over 10% of the events


def test_event_type_funnel(stream):
    _, _, facts = stream
    n = facts.events_by_type
    assert n["view"] > n["click"] > n["add_to_cart"] >= n["purchase"] > 0
    assert n["like"] > 0 and n["dislike"] > 0 and n["rating"] > 0


def test_ratings_carry_values_and_sessions_group_events(stream):
    events, _, _ = stream
    ratings = [e.value for e in events if e.event_type == "rating"]
    assert ratings and all(1 <= v <= 5 for v in ratings)
    per_session = Counter(e.session_id for e in events)
    assert np.mean(list(per_session.values())) > 3
    # a session belongs to one user
    owners = {}
    for e in events:
        assert owners.setdefault(e.session_id, e.user_id) == e.user_id


def test_new_users_and_items_appear_over_time(stream):
    events, items, facts = stream
    assert facts.users > 500 and facts.items > 400
    first_seen = {}
    for n, e in enumerate(events):
        first_seen.setdefault(e.user_id, n)
    late_users = [u for u, n in first_seen.items() if int(u[1:]) >= 500]
    assert late_users
    released_late = [i for i in items if i.timestamp > events[0].timestamp]
    assert released_late  # new items are announced with their release time


def _top_category_share(events, category, user, top=None):
    """Share of a user's views in their favourite category (or in ``top``)."""
    seen = Counter(category[e.item_id] for e in events if e.user_id == user)
    top = top or seen.most_common(1)[0][0]
    return top, seen[top] / max(1, sum(seen.values()))


def test_preference_shift_moves_what_users_engage_with(stream):
    events, items, facts = stream
    assert facts.shift_time is not None
    category = {i.item_id: i.categories[0] for i in items}
    before = [e for e in events if e.timestamp < facts.shift_time]
    after = [e for e in events if e.timestamp >= facts.shift_time]
    early, late = before[: len(before) // 2], before[len(before) // 2 :]
    active = [u for u, n in Counter(e.user_id for e in early).items() if n >= 40]
    stable, shifted = [], []
    for user in active[:50]:
        top, _ = _top_category_share(early, category, user)
        stable.append(_top_category_share(late, category, user, top)[1])
        shifted.append(_top_category_share(after, category, user, top)[1])
    assert len(active) >= 10
    # before the shift users keep their favourite category; after it, they leave it
    assert np.mean(stable) > 0.3
    assert np.mean(shifted) < 0.5 * np.mean(stable)


def test_no_shift_means_no_shift_time():
    _, _, facts = run(n_events=1_000)
    assert facts.shift_time is None
