"""One contract suite over every candidate generator (River's check_estimator style): fitted on
a small frame, each scores any history -- empty, unknown items, known items -- as one finite
value per vocabulary item, the same after a pickle round trip, without changing its own state."""

import pickle

import numpy as np
import pandas as pd
import pytest

from models.batch.generators import Generator, Vocabulary
from models.batch.pipeline import TrainConfig, make_generators


def frame(seed: int = 0, users: int = 40, items: int = 30, events: int = 800) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "user_id": [f"u{u}" for u in rng.integers(0, users, events)],
            "item_id": [f"i{i}" for i in rng.zipf(1.5, events) % items],
            "event_type": rng.choice(["view", "click", "purchase"], events),
            "value": np.nan,
            "timestamp": pd.to_datetime(
                np.sort(rng.integers(1_700_000_000, 1_700_900_000, events)), unit="s", utc=True
            ),
        }
    )


GENERATORS = make_generators(TrainConfig(use_sasrec=True, sasrec_epochs=1))


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_generator_contract(name):
    generator = GENERATORS[name]
    assert isinstance(generator, Generator) and generator.name == name
    df = frame()
    vocab = Vocabulary.from_frame(df)
    assert generator.fit(df, vocab) is generator
    known = list(df["item_id"].iloc[:5])
    for history in ([], ["never-seen"], known, known + ["never-seen"]):
        scores = generator.score(history)
        assert scores.shape == (len(vocab),) and np.isfinite(scores).all(), (name, history)
    before = generator.score(known).copy()
    clone = pickle.loads(pickle.dumps(generator))
    np.testing.assert_allclose(clone.score(known), before, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(generator.score(known), before)  # scoring does not learn


def test_generators_rank_a_co_occurring_item_above_chance():
    """A signal every non-trivial generator must find: items always taken together."""
    rows = [(f"u{u}", item, t) for u in range(60) for t, item in enumerate(["a", "b"] if u % 2 else ["c", "d"])]
    df = pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"]).assign(
        event_type="click", value=np.nan, timestamp=lambda d: pd.to_datetime(d["timestamp"], unit="h", utc=True)
    )
    vocab = Vocabulary.from_frame(df)
    for name in ("item_knn", "ease"):
        scores = GENERATORS[name].fit(df, vocab).score(["a"])
        assert vocab.items[int(np.argmax(np.where(np.arange(len(vocab)) == vocab.index["a"], -np.inf, scores)))] == "b"


def test_item_knn_combines_rows_as_scipy_does():
    from models.batch.generators import ItemKNN

    df = frame(seed=3)
    knn = ItemKNN().fit(df, Vocabulary.from_frame(df))
    rng = np.random.default_rng(0)
    for _ in range(20):
        rows = rng.integers(0, knn.similarity.shape[0], rng.integers(1, 8))
        weights = rng.random(len(rows))
        expected = np.asarray(knn.similarity[rows].T @ weights).ravel()
        np.testing.assert_allclose(knn.combine(rows, weights), expected, rtol=1e-5, atol=1e-7)


def test_sasrec_scores_in_numpy_as_the_torch_network_does():
    import torch

    sasrec = GENERATORS["sasrec"]
    df = frame(seed=4)
    sasrec.fit(df, Vocabulary.from_frame(df))
    for history in (list(df["item_id"].iloc[:3]), list(df["item_id"].iloc[-60:])):
        ids = [sasrec.vocab.index[i] + 1 for i in history][-sasrec.params["max_len"] :]
        padded = [0] * (sasrec.params["max_len"] - len(ids)) + ids
        with torch.no_grad():
            expected = sasrec.network.logits(sasrec.network(torch.tensor([padded]))[0, -1])[1:].numpy()
        np.testing.assert_allclose(sasrec.score(history), expected, rtol=1e-4, atol=1e-5)
