"""Where the stream workers publish their heartbeats (one Redis hash field per worker), and
how the CLI, the demo and the benchmarks read them."""

from __future__ import annotations

import time

import orjson

from streams.core.settings import Settings
from streams.stores.keys import RedisKeys


def workers_key(prefix: str) -> str:
    return RedisKeys(prefix).workers


GONE_AFTER_S = 600.0  # a worker silent this long is gone (killed, or its host lost): forgotten


def read_statuses(settings: Settings, now: float | None = None) -> list[dict]:
    """Every worker's last heartbeat, by name; a worker silent for over ``GONE_AFTER_S`` is
    removed instead (a killed worker is not listed forever)."""
    import redis

    client = redis.Redis.from_url(settings.redis_url, socket_timeout=5)
    key, now = workers_key(settings.topic_prefix), time.time() if now is None else now
    rows = {name: orjson.loads(v) for name, v in client.hgetall(key).items()}
    gone = [name for name, row in rows.items() if now - row.get("heartbeat", 0) > GONE_AFTER_S]
    if gone:
        client.hdel(key, *gone)
    return sorted((row for name, row in rows.items() if name not in gone), key=lambda r: r["worker"])
