"""Snapshots round-trip and rotate; an injected degradation triggers a rollback to the snapshot."""

from models.evaluation import Prequential
from models.learners import IMPLICIT_RANKER, MatrixFactorization, implicit_target, is_positive
from models.snapshots import RollbackGuard, SnapshotSchedule, SnapshotStore
from streams.core.contracts import Interaction
from streams.sources.synthetic import SimulationConfig, simulate


def events(n, seed=5):
    config = SimulationConfig(n_events=n, n_users=200, n_items=200, n_categories=8, seed=seed)
    return [m for m in simulate(config) if isinstance(m, Interaction) and m.event_type.value != "view"]


def test_round_trip_and_keep_the_last_ten(tmp_path):
    store = SnapshotStore(tmp_path, keep=10)
    learner = MatrixFactorization(seed=2)
    for n in range(12):
        learner.learn_one("u", f"i{n}", 4.0)
        store.save(learner, events_seen=n, metrics={"hit_rate": n / 10})
    snapshots = store.list()
    assert [s.version for s in snapshots] == list(range(3, 13))
    restored = store.load(store.latest())
    assert restored.predict_one("u", "i3") == learner.predict_one("u", "i3")
    assert store.before(5).version == 4 and store.before(3) is None
    assert store.latest().metrics == {"hit_rate": 1.1}


def test_schedule_by_events_or_time():
    schedule = SnapshotSchedule(every_events=100, every_seconds=60, _last_time=0.0)
    assert not schedule.due(50, now=10)
    assert schedule.due(100, now=11)
    assert schedule.due(120, now=75)  # a minute passed


def test_injected_degradation_triggers_a_rollback(tmp_path):
    stream = events(12_000)
    prequential = Prequential(
        MatrixFactorization(seed=1, **IMPLICIT_RANKER), rank_every=3, candidates=50, k=10, window=600
    )
    for e in stream[:3000]:
        kind = e.event_type.value
        prequential.update(e.user_id, e.item_id, implicit_target(kind, e.value), positive=is_positive(kind, e.value))
    # margin: the drop measures 0.175; float rounding in training can move it a little between runs
    store, guard = SnapshotStore(tmp_path), RollbackGuard(max_drop=0.1, min_evaluations=100)
    good = store.save(prequential.learner, prequential.n, {"hit_rate": prequential.rolling_hit_rate.get()})

    # degrade: a broken update replaces the model's state (here: an untrained clone)
    prequential.learner = prequential.learner.clone()
    evaluated_before = prequential.hit_rate.n
    for e in stream[3000:3600]:
        kind = e.event_type.value
        prequential.update(e.user_id, e.item_id, implicit_target(kind, e.value), positive=is_positive(kind, e.value))
    rollback, reason = guard.check(
        good.metrics["hit_rate"], prequential.rolling_hit_rate.get(), prequential.hit_rate.n - evaluated_before
    )
    assert rollback, reason
    restored = store.load(store.latest())  # the rollback
    assert restored.predict_one("u1", "i5") != prequential.learner.predict_one("u1", "i5")
    assert restored.rank("u1", [f"i{i}" for i in range(20)]) == store.load(good).rank(
        "u1", [f"i{i}" for i in range(20)]
    )


def test_the_online_model_is_what_other_processes_load_and_its_format_is_checked(tmp_path):
    import dataclasses
    import pickle

    import pytest

    from models.snapshots import OnlineModel

    store = SnapshotStore(tmp_path)
    learner = MatrixFactorization(seed=2)
    learner.learn_one("u", "i1", 5.0)
    assert store.load_online(store.save({"anything": "the learner's own state"}, 1, {})) is None  # no online part
    snapshot = store.save({"anything": "the learner's own state"}, 2, {}, online=learner)
    online = store.load_online(snapshot)
    assert isinstance(online, OnlineModel) and online.version == snapshot.version and online.events_seen == 2
    assert online.predict_one("u", "i1") == learner.predict_one("u", "i1")
    future = dataclasses.replace(online, format=online.format + 1)
    (tmp_path / f"online-{snapshot.version:06d}.pkl").write_bytes(pickle.dumps(future))
    with pytest.raises(ValueError, match="online model format"):
        store.load_online(snapshot)
