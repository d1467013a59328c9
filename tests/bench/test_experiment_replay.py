"""The offline replay of the demo's experiment: the store follows the users' clicks, the rule
never lists a seen item, and every model answers the same users in the same order."""

from bench.experiment_replay import OfflineStore, category_rule, replay
from models.batch.pipeline import TrainConfig
from streams.core.contracts import Interaction
from streams.demo.results import DemoConfig


def test_a_click_reaches_the_users_history_features_and_seen_set():
    events = [Interaction(user_id="u", item_id=i, event_type="view", timestamp=n) for n, i in enumerate("abc")]
    store = OfflineStore(events, {i: "x" for i in "abcd"})
    store.click("u", "d")
    row, lookup = store.snapshot("u")
    assert row["recent_items"][-1] == "d" and row["click_1h"] == 1 and "d" in store.seen["u"]
    assert lookup(["d"]).items["d"]["clicks"] == 1
    assert category_rule(store, 3)("u") == []  # every item of the catalogue is seen now


def test_replay_answers_the_same_requests_with_each_model():
    found = replay(
        DemoConfig(seed=3, events=6_000), requests=40, train=TrainConfig(use_sasrec=False), progress=lambda _: None
    )
    assert list(found) == ["v1 (before the shift)", "v3 (retrained after it)", "category rule"]
    for result in found.values():
        assert len(result["conversion"]) == 40 and all(0.0 <= c <= 1.0 for c in result["conversion"])
    assert found["category rule"]["serves"] == "-" and found["v1 (before the shift)"]["serves"] != "-"
    # the gate's choice check on the retrain's holdout visits, v3 against v1
    choice = found["v3 (retrained after it)"]["choice"]
    assert choice is not None and choice.visits >= 30
    assert 0.0 <= choice.champion <= 1.0 and 0.0 <= choice.challenger <= 1.0 and choice.low <= choice.high
