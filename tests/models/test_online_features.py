"""The feature-based ranker: point-in-time training data (no leakage) and one feature definition."""

import numpy as np
import pandas as pd
import pytest

from models.batch.impressions import impression_lists
from models.batch.online_features import ONLINE_FEATURES, Snapshot, online_columns
from models.batch.pipeline import OURS, TrainConfig, train_and_evaluate
from streams.core.contracts import Interaction
from streams.features.item import ItemState, item_features
from streams.features.point_in_time import PointInTime
from streams.features.user import UserState, user_features


@pytest.fixture(scope="module")
def stream(world):
    return world(4)


def test_a_snapshot_sees_the_past_and_never_the_future(stream):
    frame, categories = stream
    cut = frame["timestamp"].sort_values().iloc[len(frame) // 2]
    user = frame.loc[frame["timestamp"] < cut, "user_id"].iloc[-1]
    items = sorted(frame["item_id"].unique())[:40]
    at = cut.timestamp()
    before = PointInTime(frame, categories)([(user, at, items)])[0]
    # the same events plus a burst of future ones (at the cut and after it) on the same user and items
    future = pd.DataFrame(
        {
            "user_id": user,
            "item_id": items,
            "event_type": "purchase",
            "value": np.nan,
            "timestamp": [cut + pd.Timedelta(seconds=n) for n in range(len(items))],
        }
    )
    with_future = PointInTime(pd.concat([frame, future]), categories)([(user, at, items)])[0]
    assert with_future == before
    # and the past does reach it: one more event just before the cut changes the user's row
    past = future.iloc[:1].assign(timestamp=cut - pd.Timedelta(seconds=1))
    with_past = PointInTime(pd.concat([frame, past]), categories)([(user, at, items)])[0]
    assert with_past.user["events_total"] == before.user["events_total"] + 1


def test_a_snapshot_equals_the_stream_state_after_the_same_events(stream):
    """The replay is the worker's own state machines: folding the events in one at a time gives the
    same rows, hence the same ranking columns."""
    frame, categories = stream
    cut = frame["timestamp"].sort_values().iloc[len(frame) // 3]
    early = frame[frame["timestamp"] < cut].sort_values("timestamp", kind="stable")
    user, item = early["user_id"].iloc[-1], early["item_id"].iloc[-1]
    state, item_state = UserState(), ItemState()
    for n, row in enumerate(early.itertuples()):
        event = Interaction(
            user_id=row.user_id,
            item_id=row.item_id,
            event_type=row.event_type,
            value=None if pd.isna(row.value) else row.value,
            timestamp=row.timestamp.to_pydatetime(),
            session_id=row.session_id,
        )
        if row.user_id == user:
            state.apply(event, 0, n, categories.get(row.item_id))
        if row.item_id == item:
            item_state.apply(event, 0, n)
    users = early.loc[early["item_id"] == item, "user_id"].nunique()
    streamed = Snapshot(
        cut.timestamp(), user_features(state), {item: item_features(item_state, users)}, {item: categories[item]}
    )
    replayed = PointInTime(frame, categories)([(user, cut.timestamp(), [item])])[0]
    assert replayed == streamed
    assert np.array_equal(online_columns(replayed, [item]), online_columns(streamed, [item]), equal_nan=True)


def test_the_ranker_learns_from_and_ranks_with_online_features(stream):
    frame, categories = stream
    requests: list = []
    replay = PointInTime(frame, categories)

    def spy(batch):
        requests.extend(batch)
        return replay(batch)

    result = train_and_evaluate(frame, TrainConfig(use_sasrec=False), point_in_time=spy)
    model = result.model
    assert model.online and model.feature_names[-len(ONLINE_FEATURES) :] == ONLINE_FEATURES
    assert model.booster.num_feature() == len(model.feature_names)
    # every example's features are as of the moment its window opens for the user (its first label
    # event), which the snapshot excludes, or as of the start of a visit it learns from (its impressions)
    split = result.split
    opens = {
        (user, ts.timestamp())
        for window in (split.valid, split.test)
        for user, ts in window.groupby("user_id")["timestamp"].min().items()
    }
    visits = {(v.user, v.at) for v in impression_lists(split.valid)}
    assert visits and requests and all((user, at) in opens | visits for user, at, _ in requests)
    # the online columns carry weight in the trained ranker
    gains = dict(zip(model.feature_names, model.booster.feature_importance("gain"), strict=True))
    assert sum(gains[f] for f in ONLINE_FEATURES) > 0
    # a feature that changes, changes the ranking: the same history ranks differently for two snapshots
    history = result.test_histories[next(iter(result.test_targets))]
    pool = [model.vocab.items[i] for i in model.pool(history)]
    cold = Snapshot(0.0, None)
    hot = Snapshot(
        1e9,
        {"events_total": 50, "top_categories": [categories[pool[-1]]], "last_event_at": 1e9 - 5},
        {i: {"trending_score": 100.0, "interactions_total": 500, "last_event_at": 1e9 - 1} for i in pool[-5:]},
        categories,
    )
    assert model.recommend(history, 10, features=cold) != model.recommend(history, 10, features=hot)
    # the served list is explained with the exclusions and features it was ranked with, whatever they
    # pushed into the pool (explaining it without them once crashed serving with a 500)
    exclude = pool[:60]
    top = [i for i, _ in model.recommend(history, 10, exclude=exclude, features=hot)]
    reasons = model.reasons(history, top, exclude=exclude, features=hot)
    assert set(reasons) == set(top) and any(reasons.values())
    assert model.reasons(history, ["no-such-item"]) == {}
    assert OURS in result.table
