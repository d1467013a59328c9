"""Impression lists: what a visit showed and which of it the user chose, learned by the ranker."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import ndcg_score

from models.batch.data import histories
from models.batch.impressions import FUNNEL, choice_ndcg, history_before, impression_lists
from models.batch.pipeline import TrainConfig, train_and_evaluate
from models.promotion import ChoiceCheck
from streams.features.point_in_time import PointInTime


@pytest.fixture(scope="module")
def stream(world):
    return world(6)


def test_a_visit_lists_what_it_showed_labelled_by_how_far_each_item_went(stream):
    frame, _ = stream
    visits = impression_lists(frame)
    assert len(visits) > 500
    by_visit = {key: rows for key, rows in frame.groupby(["user_id", "session_id"])}
    starts = {key: rows["timestamp"].min().timestamp() for key, rows in by_visit.items()}
    for visit in visits[:300]:
        (key,) = [k for k, at in starts.items() if k[0] == visit.user and at == visit.at]
        rows = by_visit[key]
        assert sorted(visit.items) == sorted(rows.loc[rows["event_type"].isin(FUNNEL), "item_id"].unique())
        for item, label in zip(visit.items, visit.labels, strict=True):
            assert label == max(FUNNEL[e] for e in rows.loc[rows["item_id"] == item, "event_type"] if e in FUNNEL)
        assert min(visit.labels) == 0 < max(visit.labels)
    assert [v.at for v in visits] == sorted(v.at for v in visits)


def test_ratings_alone_give_no_impression_lists():
    frame = pd.DataFrame(
        {
            "user_id": ["u", "u"],
            "item_id": ["a", "b"],
            "event_type": ["rating", "rating"],
            "value": [5.0, 1.0],
            "timestamp": pd.to_datetime([1, 2], unit="s", utc=True),
            "session_id": ["s", "s"],
        }
    )
    assert impression_lists(frame) == [] and impression_lists(frame.drop(columns="session_id")) == []


def test_a_visit_history_holds_nothing_from_the_visit_or_after_it(stream):
    frame, _ = stream
    cut = frame["timestamp"].sort_values().iloc[len(frame) // 2]
    past, window = frame[frame["timestamp"] < cut], frame[frame["timestamp"] >= cut]
    visits = impression_lists(window)[:200]
    before = history_before(histories(past), window, visits)
    for visit, history in zip(visits, before, strict=True):
        mine = frame[(frame["user_id"] == visit.user) & (frame["event_type"] != "dislike")]
        expected = mine.loc[mine["timestamp"].map(lambda t: t.timestamp()) < visit.at].sort_values(
            "timestamp", kind="stable"
        )
        assert history == expected["item_id"].tolist()


def test_the_ranker_learns_what_users_choose_from_what_they_were_shown(stream):
    """The generator's users click by category taste, but look at items by popularity: a ranker
    that also learns from impressions orders later visits' shown items by what was chosen better."""
    frame, categories = stream
    found = {}
    for impressions in (False, True):
        replay = PointInTime(frame, categories)
        result = train_and_evaluate(frame, TrainConfig(use_sasrec=False, impressions=impressions), point_in_time=replay)
        model, split = result.model, result.split
        visits = impression_lists(split.test)
        before = history_before(histories(pd.concat([split.train, split.valid])), split.test, visits)
        snapshots = replay([(v.user, v.at, [*v.items, *h[-10:]]) for v, h in zip(visits, before, strict=True)])
        scores = []
        for visit, history, snapshot in zip(visits, before, snapshots, strict=True):
            known = [(i, y) for i, y in zip(visit.items, visit.labels, strict=True) if i in model.vocab.index]
            if len({y for _, y in known}) > 1:
                predicted = model.booster.predict(model.rows_for(history, [i for i, _ in known], snapshot))
                scores.append(ndcg_score([[y for _, y in known]], [predicted]))
        found[impressions] = (float(np.mean(scores)), len(scores))
    assert found[True][1] == found[False][1] > 50
    assert found[True][0] > found[False][0] + 0.02, found


def test_the_holdout_scores_each_model_on_what_its_visits_showed(stream):
    """What the promotion gate compares a challenger and the champion on, besides NDCG@10."""
    frame, categories = stream
    result = train_and_evaluate(frame, TrainConfig(use_sasrec=False), point_in_time=PointInTime(frame, categories))
    scores = result.choice({"ranker": result.model, "item_knn": result.model.alone("item_knn")})
    visits = impression_lists(result.split.test)
    assert len(scores["ranker"]) == len(scores["item_knn"]) == len(visits) > 50
    check = ChoiceCheck.of(scores["ranker"], scores["item_knn"])
    assert check is not None and check.visits > 50
    assert all(0.0 <= s <= 1.0 for s in scores["ranker"] if not np.isnan(s))
    # the ranker learned what users choose among what they are shown; item-kNN knows only co-occurrence
    assert check.challenger > check.champion and check.high > 0, check.describe()


def test_choice_ndcg_equals_sklearns_ndcg_with_ties_shared():
    rng = np.random.default_rng(0)
    checked = 0
    for _ in range(300):
        labels = rng.integers(0, 4, rng.integers(2, 8))
        if labels.max() == 0:
            continue
        scores = rng.integers(0, 3, len(labels)).astype(float)  # few values: many ties
        assert choice_ndcg(list(labels), scores) == pytest.approx(ndcg_score([2.0**labels - 1], [scores]))
        checked += 1
    assert checked > 200
