"""A heavy user's seen-set is larger than what serving reads per request: the newest part is
excluded up front and the items about to be served are checked against the rest, so nothing they
saw long ago comes back, at the cost of one more round trip for those users only."""

import random

import pytest
import redis
from fastapi.testclient import TestClient

from serving.state import ModelState
from streams.stores import seen_items
from streams.stores.seen_items import SeenItems
from tests.serving.wiring import make_app

pytestmark = pytest.mark.integration


def test_items_seen_long_ago_are_not_served_again(settings, redis_url, model, monkeypatch):
    monkeypatch.setattr(seen_items, "READ_NEWEST", 10)  # what one read holds; the model knows 80 items
    store = SeenItems(redis.Redis.from_url(redis_url), f"t{random.randrange(10**9)}-", cap=5_000)
    favourites = [i for i, _ in model.recommend([], 30)]  # what the model likes for anyone
    store.add(("heavy", item, float(n)) for n, item in enumerate(favourites))  # the first 30: long ago
    store.add(("heavy", f"i{n}", 100.0 + n) for n in range(10))  # then ten more recent ones
    read = store.read("heavy")
    assert len(read.items) == 10 and read.partial and read.total == len(set(favourites) | {f"i{n}" for n in range(10)})
    state = ModelState("ranker")
    state.install(model, "1")

    def history(user):
        return [f"i{n}" for n in range(10)]

    app = make_app(settings.model_copy(update={"serve_cache_ttl_s": 0.0}), state, history, seen=store.read)
    app_checked = make_app(
        settings.model_copy(update={"serve_cache_ttl_s": 0.0}),
        state,
        history,
        seen=store.read,
        seen_among=store.among,
    )
    unchecked = TestClient(app).post("/recommend", json={"user_id": "heavy", "k": 10}).json()
    body = TestClient(app_checked).post("/recommend", json={"user_id": "heavy", "k": 10}).json()
    served = [i["item_id"] for i in body["items"]]
    assert len(served) == 10 and body["fallback"] is False
    assert not set(served) & set(favourites)  # none of the 30 seen long ago
    assert set(i["item_id"] for i in unchecked["items"]) & set(favourites)  # without the check they come back
