"""The Redis edge shared by every service: one way to open a client, one name for "Redis is down".

>>> import redis
>>> isinstance(redis.ConnectionError("down"), RedisUnavailable)
True
"""

from __future__ import annotations

import threading
import time

import redis
from redis.client import Pipeline

from streams.core.settings import Settings

# What a store adapter turns into "unavailable" (a degraded answer), never into a 5xx.
RedisUnavailable = (redis.RedisError, OSError)


class Breaker:
    """After a call that timed out or could not connect, the calls of every client of that Redis in
    this process fail at once for ``cooldown_s``; then calls try again. A frozen Redis costs
    one deadline per cooldown instead of one per call: on the API's event loop, every call waiting
    out its deadline holds every request.

    >>> b = Breaker(cooldown_s=60)
    >>> b.allows(), b.tripped(), b.allows()
    (True, None, False)
    """

    def __init__(self, cooldown_s: float):
        self.cooldown_s, self._open_until, self._lock = cooldown_s, 0.0, threading.Lock()

    def allows(self) -> bool:
        return time.monotonic() >= self._open_until

    def tripped(self) -> None:
        with self._lock:
            self._open_until = time.monotonic() + self.cooldown_s

    def guard(self, call, *args, **kwargs):
        if not self.allows():
            raise redis.ConnectionError(f"Redis did not answer a moment ago; not asked again for {self.cooldown_s:g} s")
        try:
            return call(*args, **kwargs)
        except (redis.TimeoutError, redis.ConnectionError):
            self.tripped()
            raise


_breakers: dict[str, Breaker] = {}


class _GuardedPipeline(Pipeline):
    breaker: Breaker

    def execute(self, raise_on_error: bool = True):
        return self.breaker.guard(super().execute, raise_on_error)


class _GuardedRedis(redis.Redis):
    breaker: Breaker

    def execute_command(self, *args, **options):
        return self.breaker.guard(super().execute_command, *args, **options)

    def pipeline(self, transaction: bool = True, shard_hint=None) -> Pipeline:
        pipe = _GuardedPipeline(self.connection_pool, self.response_callbacks, transaction, shard_hint)
        pipe.breaker = self.breaker
        return pipe


def delete_matching(client: redis.Redis, pattern: str, batch: int = 1_000) -> int:
    """Delete every key matching ``pattern`` (``SCAN``, then ``UNLINK`` in batches); returns how many."""
    deleted, keys = 0, []
    for key in client.scan_iter(match=pattern, count=batch):
        keys.append(key)
        if len(keys) >= batch:
            deleted += client.unlink(*keys)
            keys.clear()
    if keys:
        deleted += client.unlink(*keys)
    return deleted


def open_redis(settings: Settings, timeout_s: float = 1.0, fail_fast_s: float = 1.0) -> redis.Redis:
    """A client for ``settings.redis_url`` (connects lazily, on the first command) whose every call
    answers or fails within ``timeout_s``: no retries with back-off, which would hold a request
    (and, on the API's event loop, every request) for seconds while Redis is away. After a timeout
    its calls fail at once for ``fail_fast_s`` (a :class:`Breaker` shared by the process's clients
    of that URL; 0: never)."""
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    kind = _GuardedRedis if fail_fast_s > 0 else redis.Redis
    client = kind.from_url(
        settings.redis_url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s, retry=Retry(NoBackoff(), 0)
    )
    if fail_fast_s > 0:
        client.breaker = _breakers.setdefault(f"{settings.redis_url}|{fail_fast_s:g}", Breaker(fail_fast_s))
    return client
