"""A benchmark leaves nothing behind in Redis: it runs under a topic prefix (and, for the loop's
runs, a Feast project) of its own, and drops those keys when it ends. A dev Redis that kept every
run's keys (1.27 M keys, 430 MB) spent a core on its periodic snapshot in the middle of a later
benchmark.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from streams.core.settings import Settings
from streams.stores.redis_client import delete_matching


def drop_keys(redis_url: str, patterns: list[str]) -> int:
    """Unlink every key matching one of ``patterns``; returns how many. Refuses a pattern that is
    not anchored on a run's own name (``*`` alone, or a name under 4 characters)."""
    import redis

    for pattern in patterns:
        if len(pattern.strip("*")) < 4:
            raise ValueError(f"refusing to drop keys matching {pattern!r}: not one run's own")
    client = redis.Redis.from_url(redis_url)
    return sum(delete_matching(client, pattern) for pattern in patterns)


def run_patterns(settings: Settings, feast_project: bool = False) -> list[str]:
    """The keys of one run: its topic prefix's, and (``feast_project``) its Feast project's rows,
    whose keys end with the project's name."""
    patterns = [f"{settings.topic_prefix}*"]
    if feast_project:
        patterns.append(f"*{settings.feast_project}")
    return patterns


@contextmanager
def keys_dropped(settings: Settings, feast_project: bool = False, progress=print) -> Iterator[None]:
    """Drop the run's keys when the block ends, however it ends."""
    try:
        yield
    finally:
        try:
            dropped = drop_keys(settings.redis_url, run_patterns(settings, feast_project))
            progress(f"dropped the run's {dropped:,} Redis keys")
        except Exception as error:  # noqa: BLE001 - a cleanup must not hide the run's own outcome
            progress(f"could not drop the run's Redis keys: {error}")
