"""A benchmark drops its own Redis keys when it ends, and nothing else."""

import random

import pytest
import redis

from bench.cleanup import drop_keys, keys_dropped, run_patterns
from streams.core.settings import Settings

pytestmark = pytest.mark.integration


def test_a_run_drops_its_keys_and_its_feast_projects_and_nothing_else(redis_url):
    client, run = redis.Redis.from_url(redis_url), f"{random.randrange(10**9)}"
    s = Settings(_env_file=None, redis_url=redis_url, topic_prefix=f"bench{run}-", feast_project=f"demo{run}")
    client.set(f"bench{run}-sr:u:1", "state")
    client.hset(b"\x02\x00\x00\x00user_id\x03u1" + f"demo{run}".encode(), "f", "row")  # a Feast row's key
    client.set(f"bench{run}0-sr:u:1", "another run's")
    client.set(f"keep{run}", "the user's own")
    with keys_dropped(s, feast_project=True, progress=lambda _: None):
        pass
    assert client.exists(f"bench{run}-sr:u:1") == 0
    assert client.exists(b"\x02\x00\x00\x00user_id\x03u1" + f"demo{run}".encode()) == 0
    assert client.exists(f"bench{run}0-sr:u:1") == client.exists(f"keep{run}") == 1
    client.delete(f"bench{run}0-sr:u:1", f"keep{run}")


def test_it_refuses_a_pattern_that_is_not_one_runs_own(redis_url):
    with pytest.raises(ValueError, match="refusing"):
        drop_keys(redis_url, run_patterns(Settings(_env_file=None, topic_prefix="")))
