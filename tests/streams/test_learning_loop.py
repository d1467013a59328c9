"""The learning loop on the generator's drift scenario, without Kafka."""

import pytest

from models.policy import RetrainPolicy
from models.snapshots import RollbackGuard
from streams.core.contracts import DriftEvent, Interaction, ModelUpdate, RetrainRequest
from streams.learner.loop import LearnerConfig, LearningLoop
from streams.sources.synthetic import SimulationConfig, SimulationFacts, simulate


def stream(n=60_000, shift_at=0.5, seed=5):
    facts = SimulationFacts()
    config = SimulationConfig(
        n_events=n,
        n_users=300,
        n_items=300,
        n_categories=10,
        shift_at=shift_at,
        seed=seed,
        new_user_share=0.0,
        new_item_share=0.0,
    )
    return [m for m in simulate(config, facts) if isinstance(m, Interaction)], facts


def run(loop, events, partitions=3, from_start=False):
    """Feed events as a partitioned stream, continuing after the loop's offsets (or from 0)."""
    out = []
    offsets = {p: 0 if from_start else loop.state.offsets.get(p, -1) + 1 for p in range(partitions)}
    for e in events:
        p = hash(e.user_id) % partitions
        out += [(e, m) for m in loop.process(p, offsets[p], e)]
        offsets[p] += 1
    return out


def broken_midway(tmp_path, guard):
    events, _ = stream(n=40_000, shift_at=None)
    loop = LearningLoop(LearnerConfig(snapshot_every_events=4_000, snapshot_every_seconds=1e9, guard=guard), tmp_path)
    before = [m for _, m in run(loop, events[:20_000])]
    loop.state.ranker.learner = loop.state.ranker.learner.clone()  # a broken update: the model forgets
    return loop, before, [m for _, m in run(loop, events[20_000:])]


def test_stationary_stream_is_quiet_and_snapshots_are_published(tmp_path):
    _, before, _ = broken_midway(tmp_path, RollbackGuard())
    assert not [m for m in before if isinstance(m, (DriftEvent, RetrainRequest))]
    updates = [m for m in before if isinstance(m, ModelUpdate)]
    assert len(updates) == 5 and all(u.alias == "online" and u.uri.startswith("file://") for u in updates)
    assert updates[-1].metrics["hit_rate"] > 0.4


def test_a_broken_model_is_rolled_back_to_the_last_snapshot(tmp_path):
    loop, _, after = broken_midway(tmp_path, RollbackGuard(max_drop=0.1, min_evaluations=50))
    rolled = [m for m in after if isinstance(m, ModelUpdate) and m.metrics.get("rolled_back")]
    assert rolled and "dropped from" in loop.rollback_reasons[0]
    assert rolled[0].version == "5"  # the last good snapshot


@pytest.mark.parametrize("settle", [0, 4_000])
def test_preference_shift_gives_drift_events_and_one_retrain_request(tmp_path, settle):
    events, facts = stream(n=45_000, shift_at=2 / 3)
    loop = LearningLoop(
        LearnerConfig(snapshot_every_events=5_000, snapshot_every_seconds=1e9, drift_settle_events=settle), tmp_path
    )
    out = run(loop, events)
    drift = [(e, m) for e, m in out if isinstance(m, DriftEvent)]
    retrain = [(e, m) for e, m in out if isinstance(m, RetrainRequest)]
    assert drift and drift[0][0].timestamp >= facts.shift_time
    first = drift[0][1]  # concept drift on the reference's misses, or data drift on its scores
    assert (first.detector, first.subject) in {
        ("adwin", "reference_top10_miss"),
        ("page_hinkley", "reference_top10_miss"),
        ("ks", "reference_score"),
    }
    assert len(retrain) == 1 and retrain[0][1].trigger == "drift"  # then the 24 h cooldown holds
    assert retrain[0][0].timestamp >= facts.shift_time and f"drift on {first.subject}" in retrain[0][1].reason
    assert retrain[0][1].data_window.events and retrain[0][1].data_window.end is not None
    position = {e.event_id: n for n, e in enumerate(events)}
    waited = position[retrain[0][0].event_id] - position[drift[0][0].event_id]
    assert (waited >= settle) if settle else waited == 0  # with a settle, the new regime's data comes first


def test_redelivery_is_not_learned_twice_and_restart_resumes_from_the_snapshot(tmp_path):
    events, _ = stream(n=8_000, shift_at=None)
    loop = LearningLoop(LearnerConfig(snapshot_every_events=2_000, snapshot_every_seconds=1e9), tmp_path)
    run(loop, events[:6_000])
    learned = loop.state.events
    assert run(loop, events[:6_000], from_start=True) == [] and loop.state.events == learned  # replay: nothing learned
    restarted = LearningLoop(LearnerConfig(snapshot_every_events=2_000, snapshot_every_seconds=1e9), tmp_path)
    assert restarted.state.events == 6_000 and restarted.state.offsets == loop.state.offsets
    assert restarted.state.ranker.learner.predict_one("u1", "i1") == loop.state.ranker.learner.predict_one("u1", "i1")


def test_stationary_100k_events_raise_no_drift_through_the_whole_loop(tmp_path):
    events, _ = stream(n=100_000, shift_at=None, seed=6)
    config = LearnerConfig(
        snapshot_every_events=10**9, snapshot_every_seconds=1e9, policy=RetrainPolicy(volume_events=None)
    )  # only drift may ask here
    loop = LearningLoop(config, tmp_path)
    out = [m for _, m in run(loop, events)]
    assert loop.state.data_drift is not None and loop.state.data_drift.monitors  # the data tests did run
    assert [m for m in out if isinstance(m, DriftEvent)] == []
    assert [m.trigger for m in out if isinstance(m, RetrainRequest)] == []


def test_the_contextual_engagement_model_is_scored_before_it_learns(tmp_path):
    events, _ = stream(n=15_000, shift_at=None)
    loop = LearningLoop(LearnerConfig(snapshot_every_events=10**9, snapshot_every_seconds=1e9), tmp_path)
    run(loop, events)
    metrics = loop.metrics()
    assert metrics["click_auc"] > 0.6  # better than chance at telling the engaged item from a random one
    assert metrics["click_logloss"] < 0.69  # better than a coin


def test_a_backlog_is_learned_but_kept_out_of_the_data_drift_watch(tmp_path):
    """Read long after it reached Kafka, an event teaches the models but neither makes nor meets the
    data-drift reference: the shifted stream read as backlog raises no data drift."""
    events, _ = stream(n=30_000, shift_at=0.5, seed=7)
    config = LearnerConfig(snapshot_every_events=10**9, snapshot_every_seconds=1e9)
    backlog, live = LearningLoop(config, tmp_path / "backlog"), LearningLoop(config, tmp_path / "live")
    data = ("ks", "psi")
    quiet = [m for e in events for m in backlog.process(0, backlog.state.events, e, live=False)]
    for e in events:
        live.process(0, live.state.events, e)
    assert backlog.state.events == live.state.events == len(events)  # both learned everything
    assert not backlog.state.data_drift.monitors  # no reference was taken from the backlog
    assert not [m for m in quiet if isinstance(m, DriftEvent) and m.detector in data]
    assert live.state.data_drift.monitors  # read live, the same stream is watched


def test_re_sent_copies_are_learned_once(tmp_path):
    events, _ = stream(n=4_000, shift_at=None, seed=8)
    config = LearnerConfig(snapshot_every_events=10**9, snapshot_every_seconds=1e9)
    once, twice = LearningLoop(config, tmp_path / "once"), LearningLoop(config, tmp_path / "twice")
    run(once, events)
    with_copies = [e for event in events for e in ([event, event.model_copy()] if event.user_id < "u5" else [event])]
    run(twice, with_copies)  # copies at their own offsets, right after their originals
    assert twice.state.events == once.state.events == len(events)
    assert twice.state.duplicates == len(with_copies) - len(events) > 0
    assert twice.metrics()["hit_rate"] == once.metrics()["hit_rate"]  # the same learning, copies or not


def test_the_volume_trigger_asks_once_per_n_new_events(tmp_path):
    """``STREAMREC_LEARNER_RETRAIN_EVERY_EVENTS``: one request per n events, counted from the last
    request (before, the count was never reset, so once past n every event was a trigger)."""
    events, _ = stream(n=10_500, shift_at=None)
    clock = iter(range(10**9))  # one second per call: the cooldown (2 s) never holds it back
    config = LearnerConfig(
        snapshot_every_events=10**9,
        snapshot_every_seconds=1e9,
        reference_after=10**9,
        policy=RetrainPolicy(volume_events=3_000, cooldown_s=2.0),
    )
    loop = LearningLoop(config, tmp_path, clock=lambda: float(next(clock)))
    requests = [m for _, m in run(loop, events) if isinstance(m, RetrainRequest)]
    assert [r.trigger for r in requests] == ["volume"] * 3
