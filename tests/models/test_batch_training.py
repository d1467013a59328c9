"""The batch pipeline on small generated data (no broker, no MLflow)."""

import numpy as np
import pytest

from models.batch.data import frame_from_events, histories, targets, temporal_split
from models.batch.pipeline import OURS, TrainConfig, train_and_evaluate
from models.batch.ranker import training_frame
from streams.core.contracts import Interaction
from streams.sources.synthetic import SimulationConfig, simulate


@pytest.fixture(scope="module")
def frame():
    sim = SimulationConfig(n_events=15_000, n_users=200, n_items=150, n_categories=6, seed=4)
    return frame_from_events([m for m in simulate(sim) if isinstance(m, Interaction)])


@pytest.fixture(scope="module")
def result(frame):
    return train_and_evaluate(frame, TrainConfig(sasrec_epochs=2))


def test_the_temporal_split_leaks_nothing_backwards(frame):
    split = temporal_split(frame, 0.1, 0.1)
    assert split.train["timestamp"].max() < split.valid["timestamp"].min() <= split.valid["timestamp"].max()
    assert split.valid["timestamp"].max() < split.test["timestamp"].min()
    assert len(split.train) + len(split.valid) + len(split.test) == len(frame)


def test_targets_are_new_items_of_known_users(frame):
    split = temporal_split(frame, 0.1, 0.1)
    history = histories(split.train)
    found = targets(history, split.valid)
    assert found and all(user in history for user in found)
    assert all(item not in set(history[user]) for user, items in found.items() for item in items)


def test_the_ranker_beats_popularity_and_every_model_is_on_one_protocol(result):
    k = "ndcg@10"
    assert set(result.table) == {OURS, "popularity", "item_knn", "ease", "sasrec"}
    assert len({m["users"] for m in result.table.values()}) == 1  # same users for everyone
    assert result.table[OURS][k] > result.table["popularity"][k]
    assert result.model.booster is not None and result.stats["ranker_groups"] >= 5


def test_the_model_recommends_from_a_history_alone_and_explains(result):
    model = result.model
    history = ["i1", "i2", "i3"]
    top = model.recommend(history, k=5)
    assert len(top) == 5 and not {i for i, _ in top} & set(history)
    assert [s for _, s in top] == sorted((s for _, s in top), reverse=True)
    assert model.recommend([], k=3)  # an unknown user still gets a list
    reasons = model.contributions(history, [top[0][0]])
    assert set(reasons[top[0][0]]) == set(model.feature_names)


def test_ranker_labels_are_graded_and_lists_hold_a_positive(frame):
    from models.batch.pipeline import fit_two_stage

    split = temporal_split(frame, 0.1, 0.1)
    model = fit_two_stage(split.train, TrainConfig(use_sasrec=False), {}, lambda _: None)
    history = histories(split.train)
    x, y, groups = training_frame(model, history, targets(history, split.valid))
    assert x.shape == (len(y), len(model.feature_names)) and sum(groups) == len(y)
    bounds = np.cumsum([0, *groups])
    assert all(y[a:b].max() > 0 for a, b in zip(bounds[:-1], bounds[1:], strict=True))
    assert set(np.unique(y)) <= {0, 2, 3, 4, 5}  # 1 + grade (view 1 ... purchase 4)


def test_optuna_search_stays_within_its_budget(frame):
    import time

    began = time.monotonic()
    result = train_and_evaluate(frame, TrainConfig(use_sasrec=False, tune_budget_s=4))
    assert result.stats["tuning_trials"] >= 1
    assert time.monotonic() - began < 120


def test_ease_scores_a_history_as_the_dense_product_does():
    """The row-sum shortcut equals x @ B for the binary history vector x (repeats and unknown items included)."""
    import numpy as np
    import pandas as pd

    from models.batch.generators import EASE, Vocabulary, history_vector

    rng = np.random.default_rng(1)
    df = pd.DataFrame(
        {
            "user_id": [f"u{u}" for u in rng.integers(0, 60, 3000)],
            "item_id": [f"i{i}" for i in rng.zipf(1.5, 3000) % 90],
        }
    )
    items = df["item_id"].value_counts().index.tolist()
    vocab = Vocabulary(items, {i: n for n, i in enumerate(items)})
    ease = EASE(l2=10.0, max_items=50).fit(df, vocab)
    for history in (["i1", "i2", "i2"], items[-5:] + ["nope"], []):
        dense = np.zeros(len(vocab), dtype=np.float32)
        dense[:50] = history_vector(history, ease.sub) @ ease.weights
        assert np.allclose(ease.score(history), dense, atol=1e-5)


def test_a_baseline_served_alone_ranks_exactly_as_it_was_evaluated(result):
    """What gets registered when a baseline wins is that baseline: the same lists, so the same metrics."""
    from models.batch.pipeline import evaluate_models

    seen = result.split.train  # feeds novelty and coverage only, not the ranking metrics
    for name in ("item_knn", "ease", "popularity"):
        alone = result.model_for(name)
        assert alone.booster is None and alone.serves == name and alone.popular(5) == result.model.popular(5)
        table = evaluate_models(
            result.model, result.test_histories, result.test_targets, seen, 10, others={"alone": alone}
        )
        for metric in ("ndcg@10", "recall@10"):
            assert table["alone"][metric] == pytest.approx(table[name][metric]), (name, metric)
    assert result.best in result.table
    assert result.table[result.best]["ndcg@10"] == max(row["ndcg@10"] for row in result.table.values())


def test_auto_split_cuts_per_user_when_the_global_cut_leaves_too_few_users(frame):
    from models.batch.pipeline import choose_split

    assert choose_split(frame, TrainConfig(split="auto", auto_min_test_users=10)).protocol == "global time"
    assert choose_split(frame, TrainConfig(split="auto", auto_min_test_users=10_000)).protocol == "per-user time"


def test_the_holdout_reports_how_sure_it_is_of_its_choice(result):
    best, runner_up = result.best, result.runner_up
    assert runner_up is not None and runner_up != best
    low, high = result.interval(best, runner_up)
    diff = result.table[best]["ndcg@10"] - result.table[runner_up]["ndcg@10"]
    assert low <= diff <= high and high - low > 0
    assert len(result.per_user[best]) == int(result.table[best]["users"])
    # a clearly worse row is clearly worse
    low, high = result.interval("popularity", best)
    assert high < 0
