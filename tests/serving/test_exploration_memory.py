"""Clients choose context values, so the cold-start bandit caps the contexts it learns apart: a flood
of distinct contexts leaves Redis and the process with a bounded number of keys, each expiring."""

import random

import pytest
import redis

from serving.exploration import ColdStartExplorer

pytestmark = pytest.mark.integration


def test_distinct_contexts_do_not_grow_memory(redis_url, model):
    client = redis.Redis.from_url(redis_url)
    prefix = f"t{random.randrange(10**9)}-"
    explorer = ColdStartExplorer(client, prefix, candidates=20, refresh_s=0.0, seed=1, max_contexts=50, ttl_s=3600)

    def flood(start: int, n: int) -> None:
        for i in range(start, start + n):
            key, top = explorer.rank(model, {"device": f"dev-{i}"}, 5, set())
            explorer.record(f"r{i}", key, [item for item, _ in top])

    flood(0, 500)
    keys_after_500 = len(client.keys(f"{prefix}sr:cold:*"))
    flood(500, 10_000)
    keys = client.keys(f"{prefix}sr:cold:*")
    assert len(keys) == keys_after_500 <= 51  # 50 contexts learned apart + the shared "all"
    assert client.scard(f"{prefix}sr:coldctx") == 50
    assert all(0 < client.ttl(k) <= 3600 for k in keys)  # everything fades when nobody asks
    assert len(explorer._cache) <= 50 and len(explorer._admitted) <= 50
    key, _ = explorer.rank(model, {"device": "dev-3"}, 5, set())
    assert key == "device=dev-3"  # an early context keeps its own posterior
    assert explorer.rank(model, {"device": "brand-new"}, 5, set())[0] == "all"


def test_without_rewards_the_lists_settle_on_the_models_order(redis_url, model):
    """Events that carry no ``recommendation_id`` never reward the bandit: it must not cycle
    through the candidates, but come back to the model's own cold-start order."""
    client = redis.Redis.from_url(redis_url)
    explorer = ColdStartExplorer(client, f"t{random.randrange(10**9)}-", candidates=40, refresh_s=0.0, seed=3)
    order = [item for item, _ in model.recommend([], 5)]
    lists = []
    for i in range(3_000):
        key, top = explorer.rank(model, {"device": "tv"}, 5, set())
        explorer.record(f"r{i}", key, [item for item, _ in top])
        lists.append([item for item, _ in top])
    explored_early = sum(items != order for items in lists[:200])
    explored_late = sum(items != order for items in lists[-500:])
    assert explored_early > 0  # it does try other items while rewards might still come
    assert explored_late <= 0.02 * 500, explored_late  # 1,000 / (1,000 + 15k impressions) x 10 % ≈ 0.6 %
