"""Online state machines vs the independent offline recomputation, on generated streams."""

import pytest

from streams.core.contracts import Interaction, Item
from streams.features.item import ItemState, item_features
from streams.features.offline import offline_item_features, offline_user_features
from streams.features.user import UserState, user_features
from streams.sources.synthetic import SimulationConfig, simulate


def generated(n=6000, seed=4):
    messages = list(simulate(SimulationConfig(n_events=n, n_users=80, n_items=120, n_categories=8, seed=seed)))
    events = [m for m in messages if isinstance(m, Interaction)]
    categories = {m.item_id: m.categories[0] for m in messages if isinstance(m, Item)}
    return events, categories


def online(events, categories, replay_every=0, partitions=3):
    """Feed events as a partitioned stream would (offsets per partition), optionally re-delivering."""
    users, items, item_users = {}, {}, {}
    offsets = {p: 0 for p in range(partitions)}
    delivered = []
    for e in events:
        p = hash(e.user_id) % partitions
        delivered.append((e, p, offsets[p]))
        offsets[p] += 1
    stream = list(delivered)
    if replay_every:  # a crash every N events: the last N are delivered again
        stream = []
        for i in range(0, len(delivered), replay_every):
            stream += delivered[i : i + replay_every] + delivered[max(0, i - replay_every // 2) : i + replay_every]
    for e, p, o in stream:
        users.setdefault(e.user_id, UserState()).apply(e, p, o, categories.get(e.item_id))
        if items.setdefault(e.item_id, ItemState()).apply(e, p, o):
            item_users.setdefault(e.item_id, set()).add(e.user_id)
    return (
        {u: user_features(s) for u, s in users.items()},
        {i: item_features(s, len(item_users[i])) for i, s in items.items()},
    )


def assert_rows_equal(online_rows, offline_rows):
    assert online_rows.keys() == offline_rows.keys()
    for key, expected in offline_rows.items():
        got = online_rows[key]
        for name, value in expected.items():
            if isinstance(value, float):
                assert got[name] == pytest.approx(value, rel=1e-9, abs=1e-9), (key, name)
            else:
                assert got[name] == value, (key, name)


def test_online_equals_offline():
    events, categories = generated()
    users, items = online(events, categories)
    assert_rows_equal(users, offline_user_features(events, categories))
    assert_rows_equal(items, offline_item_features(events))


def test_redelivery_never_double_counts():
    events, categories = generated(seed=9)
    users, items = online(events, categories, replay_every=250)
    assert_rows_equal(users, offline_user_features(events, categories))
    assert_rows_equal(items, offline_item_features(events))


def test_windows_count_recent_events_only():
    s = UserState()
    base = 1_800_000_000
    for i, age_h in enumerate([200, 30, 5, 0.5, 0]):  # hours before the newest event
        s.apply(Interaction(user_id="u", item_id=f"i{i}", event_type="view", timestamp=base - age_h * 3600), 0, i, None)
    f = user_features(s)
    assert (f["view_1h"], f["view_24h"], f["view_7d"], f["events_total"]) == (2, 3, 4, 5)


def test_late_events_count_in_totals_but_not_in_expired_windows():
    s = UserState()
    s.apply(Interaction(user_id="u", item_id="a", event_type="click", timestamp=10 * 86400), 0, 0, None)
    s.apply(Interaction(user_id="u", item_id="b", event_type="click", timestamp=1 * 86400), 0, 1, None)  # 9 days late
    f = user_features(s)
    assert f["click_7d"] == 1 and f["events_total"] == 2 and f["last_event_at"] == 10 * 86400


def test_state_survives_serialisation():
    import orjson

    events, categories = generated(n=800)
    s, i = UserState(), ItemState()
    for n, e in enumerate(events[:300]):
        s.apply(e, 1, n, categories.get(e.item_id))
        i.apply(e, 1, n)
    s2 = UserState.from_dict(orjson.loads(orjson.dumps(s.to_dict(), option=orjson.OPT_NON_STR_KEYS)))
    i2 = ItemState.from_dict(orjson.loads(orjson.dumps(i.to_dict(), option=orjson.OPT_NON_STR_KEYS)))
    assert user_features(s2) == user_features(s) and item_features(i2, 3) == item_features(i, 3)
    assert s2.apply(events[5], 1, 5, None) is False  # still remembers applied offsets


def test_trending_prefers_recent_activity():
    s_old, s_new = ItemState(), ItemState()
    for k in range(10):
        s_old.apply(Interaction(user_id="u", item_id="a", event_type="view", timestamp=0 + k), 0, k)
    s_old.apply(Interaction(user_id="u", item_id="a", event_type="view", timestamp=86400), 0, 99)
    for k in range(3):
        s_new.apply(Interaction(user_id="u", item_id="b", event_type="view", timestamp=86400 - k), 0, k)
    assert item_features(s_new, 1)["trending_score"] > item_features(s_old, 1)["trending_score"]


def test_windows_keep_no_bucket_older_than_their_window():
    """What keeps the stored state small: after any event, each window holds buckets of the window
    ending at the user's reference time only (late events included)."""
    from streams.features.windows import WINDOWS

    events, categories = generated(n=3000, seed=5)
    late = [e.model_copy(update={"timestamp": e.timestamp.replace(year=e.timestamp.year - 1)}) for e in events[::50]]
    states: dict[str, UserState] = {}
    for n, e in enumerate([*events, *late]):
        state = states.setdefault(e.user_id, UserState())
        state.apply(e, 0, n, categories.get(e.item_id))
        for per_window in state.windows.values():
            for name, counts in per_window.items():
                oldest = WINDOWS[name].oldest_bucket(state.reference_ts)
                assert all(b >= oldest for b in counts), (name, sorted(counts), oldest)
