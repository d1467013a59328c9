"""Every learner honours the protocol: pickle, clone, purity, cold start, ranking."""

import copy
import math
import pickle
import random

import pytest

from models.learners import LEARNERS, Learner

X = {"device": "ios", "hour": 13, "premium": True}


def stream(n=300, seed=0):
    rng = random.Random(seed)
    for _ in range(n):
        user, item = f"u{rng.randrange(20)}", f"i{rng.randrange(30)}"
        yield user, item, float(rng.choice([0, 1, 2, 3, 4, 5])), dict(X, hour=rng.randrange(24))


def trained(cls) -> Learner:
    learner = cls()
    for user, item, y, x in stream():
        learner.learn_one(user, item, y if cls.__name__ != "ContextualLogistic" else float(y >= 3), x)
    return learner


@pytest.fixture(params=LEARNERS, ids=lambda c: c.__name__)
def cls(request):
    return request.param


def test_predict_before_learn_and_unseen_ids_are_finite(cls):
    fresh = cls()
    assert math.isfinite(fresh.predict_one("nobody", "nothing", X))
    learner = trained(cls)
    for user, item in [("u1", "never-seen"), ("never-seen", "i1"), ("ghost", "phantom")]:
        assert math.isfinite(learner.predict_one(user, item, X))


def test_pickle_round_trip_keeps_predictions(cls):
    learner = trained(cls)
    restored = pickle.loads(pickle.dumps(learner))
    pairs = [(f"u{u}", f"i{i}") for u in range(5) for i in range(5)]
    assert [learner.predict_one(u, i, X) for u, i in pairs] == [restored.predict_one(u, i, X) for u, i in pairs]


def test_clone_is_fresh_with_the_same_parameters(cls):
    learner = trained(cls)
    clone = learner.clone()
    assert type(clone) is cls and clone.params == learner.params
    assert clone.predict_one("u1", "i1", X) == cls(**learner.params).predict_one("u1", "i1", X)
    assert clone.predict_one("u1", "i1", X) != learner.predict_one("u1", "i1", X)


def test_inputs_are_not_mutated(cls):
    learner = cls()
    x = copy.deepcopy(X)
    learner.learn_one("u1", "i1", 1.0, x)
    learner.predict_one("u1", "i1", x)
    learner.rank("u1", ["i1", "i2"], x)
    assert x == X


def test_rank_orders_by_score_and_keeps_every_item(cls):
    learner = trained(cls)
    items = [f"i{i}" for i in range(30)] + ["unseen"]
    ranked = learner.rank("u3", set(items), X)
    assert sorted(ranked) == sorted(items)
    scores = [learner.predict_one("u3", i, X) for i in ranked]
    assert scores == sorted(scores, reverse=True)


def test_learning_moves_predictions_towards_the_target(cls):
    learner = cls()
    before = learner.predict_one("u", "i", X)
    for _ in range(50):
        learner.learn_one("u", "i", 1.0 if cls.__name__ == "ContextualLogistic" else 5.0, X)
    assert learner.predict_one("u", "i", X) > before
