"""Our MatrixFactorization follows River's BiasedMF update rule exactly, and snapshots holding the
River model load as the same predictions."""

import pickle
import random

import numpy as np
import pytest
from river import optim, reco

from models.learners import MatrixFactorization


def river_mf(seed: int, **params) -> reco.BiasedMF:
    return reco.BiasedMF(
        n_factors=params["n_factors"],
        bias_optimizer=optim.SGD(params["bias_lr"]),
        latent_optimizer=optim.SGD(params["latent_lr"]),
        weight_initializer=optim.initializers.Zeros(),
        latent_initializer=optim.initializers.Normal(mu=0.0, sigma=0.1, seed=seed),
        l2_bias=params["l2"],
        l2_latent=params["l2"],
    )


def stream(n: int, seed: int = 0):
    rng = random.Random(seed)
    return [(f"u{rng.randrange(30)}", f"i{rng.randrange(40)}", float(rng.randrange(1, 6))) for _ in range(n)]


@pytest.mark.parametrize("l2", [0.0, 0.01])
def test_the_update_rule_is_rivers(l2):
    params = dict(n_factors=8, bias_lr=0.025, latent_lr=0.05, l2=l2)
    ours, theirs = MatrixFactorization(y_min=-100, y_max=100, **params), river_mf(3, **params)
    for user, item, y in stream(3000):
        for table, key, source in (
            (ours.user_factors, user, theirs.u_latents),
            (ours.item_factors, item, theirs.i_latents),
        ):
            if key not in table:  # start from River's random factors, then learn independently
                table[key] = np.array(source[key], dtype=float)
        assert ours.predict_one(user, item) == pytest.approx(theirs.predict_one(user, item), abs=1e-9)
        ours._step(user, item, y)
        theirs.learn_one(user, item, y)
    assert ours.mean == pytest.approx(theirs.global_mean.get())
    assert ours.user_bias == pytest.approx(dict(theirs.u_biases))


def test_ranking_in_one_product_orders_like_predict_one():
    mf = MatrixFactorization(n_factors=6, negatives=2, seed=5)
    for user, item, y in stream(2000, seed=1):
        mf.learn_one(user, item, y)
    candidates = [f"i{n}" for n in range(45)]  # i40..i44 never seen
    for user in ("u1", "u7", "nobody"):
        expected = sorted(candidates, key=lambda i: (-mf.predict_one(user, i), i))
        assert mf.rank(user, candidates) == expected


def test_a_snapshot_with_rivers_model_loads_as_the_same_predictions():
    params = dict(n_factors=6, bias_lr=0.025, latent_lr=0.05, l2=0.0)
    legacy_model = river_mf(73, **params)
    for user, item, y in stream(500):
        legacy_model.learn_one(user, item, y)
    fresh = MatrixFactorization(y_min=0.5, y_max=5.0, **params)
    legacy = {k: v for k, v in vars(fresh).items() if k in ("params", "y_min", "y_max", "negatives", "_rng")}
    legacy |= {"_items": ["i1"], "_known": {"i1"}, "model": legacy_model}  # what pickles of old snapshots hold
    loaded = MatrixFactorization.__new__(MatrixFactorization)
    loaded.__setstate__(legacy)
    loaded = pickle.loads(pickle.dumps(loaded))
    for user, item, _ in stream(50, seed=9):
        if user in legacy_model.u_latents and item in legacy_model.i_latents:
            expected = min(5.0, max(0.5, legacy_model.predict_one(user, item)))
            assert loaded.predict_one(user, item) == pytest.approx(expected, abs=1e-9)
    loaded.learn_one("u1", "i2", 4.0)  # and it keeps learning
    assert "i2" in loaded.item_factors
