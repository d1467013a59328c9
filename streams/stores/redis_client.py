"""The Redis edge shared by every service: one way to open a client, one name for "Redis is down".

>>> import redis
>>> isinstance(redis.ConnectionError("down"), RedisUnavailable)
True
"""

from __future__ import annotations

import redis

from streams.core.settings import Settings

# What a store adapter turns into "unavailable" (a degraded answer), never into a 5xx.
RedisUnavailable = (redis.RedisError, OSError)


def open_redis(settings: Settings, timeout_s: float = 1.0) -> redis.Redis:
    """A client for ``settings.redis_url`` (connects lazily, on the first command) whose every call
    answers or fails within ``timeout_s``: no retries with back-off, which would hold a request
    (and, on the API's event loop, every request) for seconds while Redis is away."""
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return redis.Redis.from_url(
        settings.redis_url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s, retry=Retry(NoBackoff(), 0)
    )
