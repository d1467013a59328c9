"""`streamrec worker status` reads the heartbeats in Redis: a worker killed long ago is not listed
forever."""

import time

import orjson
import redis

from streams.stores.worker_status import GONE_AFTER_S, read_statuses, workers_key


def test_a_worker_silent_for_long_is_forgotten(settings, redis_url):
    s = settings.model_copy(update={"redis_url": redis_url})
    client, key, now = redis.Redis.from_url(redis_url), workers_key(s.topic_prefix), time.time()
    client.hset(key, "alive", orjson.dumps({"worker": "alive", "heartbeat": now - 3}))
    client.hset(key, "killed-a-while-ago", orjson.dumps({"worker": "killed-a-while-ago", "heartbeat": now - 120}))
    client.hset(
        key, "killed-long-ago", orjson.dumps({"worker": "killed-long-ago", "heartbeat": now - GONE_AFTER_S - 1})
    )
    assert [r["worker"] for r in read_statuses(s, now)] == ["alive", "killed-a-while-ago"]
    assert sorted(client.hkeys(key)) == [b"alive", b"killed-a-while-ago"]  # removed, not only hidden
