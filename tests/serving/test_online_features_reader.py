"""The serving side of the online features: item rows at most ``item_ttl_s`` stale, one read per
stale batch, and a store outage that degrades to missing features instead of failing."""

import pytest

from serving.features import OnlineFeatures


class Store:
    def __init__(self):
        self.rows = {"user_features": {"u1": {"recent_items": ["a"]}}, "item_features": {}, "item_catalog": {}}
        self.reads: list[tuple[str, list[str]]] = []
        self.down = False

    def __call__(self, view, ids):
        if self.down:
            raise ConnectionError("redis is away")
        self.reads.append((view, list(ids)))
        return {i: self.rows[view].get(i) for i in ids}


@pytest.fixture
def clock():
    return [1000.0]


def test_item_rows_are_re_read_once_older_than_the_ttl(clock):
    store = Store()
    store.rows["item_features"] = {"a": {"trending_score": 1.0}, "b": {"trending_score": 2.0}}
    features = OnlineFeatures(store, item_ttl_s=1.0, clock=lambda: clock[0])
    user = features.user("u1")
    assert user.lookup(["a", "b"]).items["b"] == {"trending_score": 2.0}
    store.rows["item_features"]["b"] = {"trending_score": 9.0}
    clock[0] += 0.5
    assert user.lookup(["a", "b"]).items["b"] == {"trending_score": 2.0}  # within the bound: the cached copy
    clock[0] += 0.6
    assert user.lookup(["a", "b"]).items["b"] == {"trending_score": 9.0}  # older than 1 s: read again
    item_reads = [ids for view, ids in store.reads if view == "item_features"]
    assert item_reads == [["a", "b"], ["a", "b"]]  # one read per stale batch, none in between


def test_an_outage_gives_missing_item_features_and_a_failing_user_read(clock):
    store = Store()
    features = OnlineFeatures(store, clock=lambda: clock[0])
    user = features.user("u1")
    store.down = True
    assert user.lookup(["a"]) is None
    with pytest.raises(ConnectionError):
        features.user("u1")


def test_the_recommender_answers_a_flagged_fallback_when_the_feature_store_is_away(clock):
    from types import SimpleNamespace

    from serving.recommender import Recommender
    from serving.state import ModelState
    from streams.core.contracts import RecommendationRequest

    store = Store()
    state = ModelState("ranker")
    model = SimpleNamespace(
        recommend=lambda h, k, exclude=(), features=None: [("b", 1.0)], reasons=lambda *a: {}, popular=lambda n: ["p"]
    )
    state.install(model, "1")
    recommender = Recommender(state, features=OnlineFeatures(store, clock=lambda: clock[0]))
    served, ranked = recommender.answer(RecommendationRequest(user_id="u1", k=1))
    assert not ranked.fallback and [i.item_id for i in served.items] == ["b"]
    store.down = True
    served, ranked = recommender.answer(RecommendationRequest(user_id="u2", k=1))
    assert ranked.fallback and ranked.reason == "user history unavailable"


def test_the_refresher_keeps_asked_items_fresh_so_requests_do_not_read_them(clock):
    from serving.features import BEHIND, HOT_S

    store = Store()
    store.rows["item_features"] = {"a": {"trending_score": 1.0}, "b": {"trending_score": 2.0}}
    features = OnlineFeatures(store, item_ttl_s=1.0, clock=lambda: clock[0])
    features._refreshing = True  # as while follow() runs
    user = features.user("u1")
    user.lookup(["a", "b"])  # first ask: read on the request path
    store.rows["item_features"]["b"] = {"trending_score": 9.0}
    clock[0] += 1.5
    store.reads.clear()
    assert features.refresh() == 2
    assert user.lookup(["a", "b"]).items["b"] == {"trending_score": 9.0}  # refreshed off the request path
    clock[0] += BEHIND * 1.0 - 0.1  # stale, but within the refresher's allowance: still no request-path read
    user.lookup(["a", "b"])
    assert [ids for view, ids in store.reads if view == "item_features"] == [["a", "b"]]  # the refresh only
    clock[0] += 0.2  # the refresher fell behind: the request reads the row itself
    user.lookup(["a"])
    assert [ids for view, ids in store.reads if view == "item_features"][-1] == ["a"]
    clock[0] += HOT_S + 1  # no longer asked for: forgotten
    assert features.refresh() == 0


def test_follow_refreshes_until_stopped_and_survives_an_outage():
    import threading
    import time

    store = Store()
    store.rows["item_features"] = {"a": {"trending_score": 1.0}}
    features = OnlineFeatures(store, item_ttl_s=0.05)
    features.user("u1").lookup(["a"])
    stop = threading.Event()
    thread = threading.Thread(target=features.follow, args=(stop,), daemon=True)
    thread.start()
    store.down = True
    time.sleep(0.2)  # refreshes fail and are retried
    store.down = False
    store.rows["item_features"]["a"] = {"trending_score": 5.0}
    deadline = time.monotonic() + 5
    while features.snapshot(None, ["a"]).items["a"] != {"trending_score": 5.0} and time.monotonic() < deadline:
        time.sleep(0.02)
    assert features.snapshot(None, ["a"]).items["a"] == {"trending_score": 5.0}
    stop.set()
    thread.join(5)
    assert not thread.is_alive() and not features._refreshing
