"""Fusing the model's list with what is popular right now: the ranking, the holdout's choice of
weight, and the window as of each example's time (no later event)."""

import numpy as np
import pandas as pd

from models.batch.fusion import choose_now_weight, popular_before
from serving.ranking import NOW_REASON, rank


class _Model:
    feature_names = ()

    def recommend(self, history, k, exclude=()):
        return [(f"m{n}", 1.0 - n / 100) for n in range(k)]

    def reasons(self, history, items, exclude=()):
        return {i: ["liked by similar users"] for i in items}


def test_weight_zero_serves_the_models_list_and_a_weight_brings_in_what_is_trending():
    now = lambda n, banned: [i for i in ["t0", "m3", "seen"] if i not in banned][:n]  # noqa: E731
    alone = rank(_Model(), ["seen"], 5, [], now=now, now_weight=0.0)
    assert [i.item_id for i in alone.items] == ["m0", "m1", "m2", "m3", "m4"]
    fused = rank(_Model(), ["seen"], 5, [], now=now, now_weight=0.5, explain_items=True)
    served = {i.item_id: i.reasons for i in fused.items}
    assert list(served)[:3] == ["m3", "m0", "t0"]  # in both lists first; the trending item ties with m0
    assert served["t0"] == [NOW_REASON] and NOW_REASON in served["m3"] and "seen" not in served
    assert served["m0"] == ["liked by similar users"]


def test_the_holdout_keeps_a_weight_only_when_its_gain_is_clear_of_noise():
    rng = np.random.default_rng(5)
    users = [f"u{n}" for n in range(400)]
    lists = {u: [(f"m{n}", 0.0) for n in range(20)] for u in users}
    now_lists = {u: [f"t{n}" for n in range(20)] for u in users}
    # targets found by the trending list for most users: fusion clearly helps
    trending = {u: {"t0"} if rng.random() < 0.6 else {"m15"} for u in users}
    weight, by_weight = choose_now_weight(lists, now_lists, trending, k=10)
    assert weight > 0 and by_weight[weight] > by_weight[0.0]
    # one user in 400 better off with fusion, every other the same (a target neither list holds): not evidence
    even = {u: {"elsewhere"} for u in users} | {"u0": {"t0"}}
    assert max(choose_now_weight(lists, now_lists, even, k=10)[1].items(), key=lambda kv: kv[1])[0] > 0
    assert choose_now_weight(lists, now_lists, even, k=10)[0] == 0.0


def test_the_window_holds_only_events_before_each_users_time():
    times = pd.to_datetime([10, 20, 30, 40, 50], unit="s", utc=True)
    events = pd.DataFrame({"item_id": ["a", "a", "b", "b", "b"], "timestamp": times})
    now = popular_before(events, {"early": 25.0, "late": 45.0, "at": 30.0}, {}, window=10, depth=5)
    assert now["early"] == ["a"]  # b's events come later: never counted for an earlier example
    assert now["at"] == ["a"]  # an event at the example's own time is not before it
    assert now["late"] == ["a", "b"] or now["late"] == ["b", "a"]
    assert popular_before(events, {"late": 55.0}, {}, window=3, depth=5)["late"] == ["b"]  # only the newest 3
