import pytest

from models.drift import Detection
from models.policy import ModelHistory, RetrainPolicy, decide

DAY = 86_400.0
DRIFT = Detection("adwin", "concept", "top10_miss", 0.41, 0.002, None, 5000, 800)


def history(**kw):
    return ModelHistory(**({"last_trained_at": 0.0, "events_since_training": 10} | kw))


def test_nothing_to_do():
    d = decide(RetrainPolicy(), history(), now=DAY)
    assert (d.retrain, d.trigger) == (False, None)


@pytest.mark.parametrize(
    "kwargs, trigger, words",
    [
        ({"detections": [DRIFT]}, "drift", "adwin detected concept drift on top10_miss"),
        ({"metrics": {"hit_rate@10": 0.1}}, "performance", "hit_rate@10 = 0.1 < 0.3"),
        ({"manual_reason": "new catalogue"}, "manual", "new catalogue"),
    ],
)
def test_each_trigger_explains_itself(kwargs, trigger, words):
    policy = RetrainPolicy(min_metrics={"hit_rate@10": 0.3})
    d = decide(policy, history(), now=DAY, **kwargs)
    assert d.retrain and d.trigger == trigger and words in d.reason


def test_manual_beats_drift_beats_performance_beats_volume():
    policy = RetrainPolicy(min_metrics={"ndcg@10": 0.5}, volume_events=5)
    h = history(events_since_training=100)
    assert decide(policy, h, DAY, detections=[DRIFT], metrics={"ndcg@10": 0.1}, manual_reason="m").trigger == "manual"
    assert decide(policy, h, DAY, detections=[DRIFT], metrics={"ndcg@10": 0.1}).trigger == "drift"
    assert decide(policy, h, DAY, metrics={"ndcg@10": 0.1}).trigger == "performance"
    assert decide(policy, h, DAY).trigger == "volume"


def test_aggregate_threshold():
    policy = RetrainPolicy(min_metrics={"precision": 0.1, "recall": 0.1}, min_aggregate=0.5)
    d = decide(policy, history(), DAY, metrics={"precision": 0.4, "recall": 0.3})
    assert d.trigger == "performance" and "aggregate score 0.35 < 0.5" in d.reason


def test_schedule_interval_and_cron():
    assert (
        decide(RetrainPolicy(schedule_interval_s=3600), history(last_trained_at=DAY), DAY + 3600).trigger == "schedule"
    )
    assert not decide(RetrainPolicy(schedule_interval_s=3600), history(last_trained_at=DAY), DAY + 60).retrain
    cron = RetrainPolicy(schedule_cron="0 3 * * *")
    assert decide(cron, history(last_trained_at=0.0), 4 * 3600.0).trigger == "schedule"  # 03:00 passed
    assert not decide(cron, history(last_trained_at=0.0), 2 * 3600.0).retrain


def test_cooldown_suppresses_and_force_overrides():
    policy = RetrainPolicy(cooldown_s=DAY)
    h = history(last_request_at=DAY)
    held = decide(policy, h, DAY + 3600, detections=[DRIFT])
    assert not held.retrain and held.suppressed_by_cooldown and "cooldown" in held.reason
    assert decide(policy, h, DAY + 3600, manual_reason="now", force=True).retrain
    assert decide(policy, h, 2 * DAY + 1, detections=[DRIFT]).retrain  # cooldown over


def test_dry_run_is_flagged_and_disabled_detectors_are_ignored():
    d = decide(RetrainPolicy(drift_detectors=frozenset({"ks"})), history(), DAY, detections=[DRIFT], dry_run=True)
    assert not d.retrain and d.dry_run
