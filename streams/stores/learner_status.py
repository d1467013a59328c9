"""Where the online learner's state is published for the other services: its status (metrics,
snapshot version, rollbacks, offsets) as one Redis hash field, and its snapshot directory."""

from __future__ import annotations

import time
from pathlib import Path

import orjson

from streams.core.settings import Settings
from streams.stores.keys import RedisKeys
from streams.stores.redis_client import open_redis


def snapshot_dir(settings: Settings) -> Path:
    """Where the learner writes its snapshots and serving reads them."""
    return settings.run_dir / "learner" / (settings.topic_prefix or "default")


def publish_status(
    client, settings: Settings, metrics: dict, snapshot_version: int | None, rollbacks: list, offsets: dict[int, int]
) -> None:
    """The latest figures, as one Redis hash field (read by the API's /drift and the demo)."""
    client.hset(
        RedisKeys(settings.topic_prefix).learner_status,
        "status",
        orjson.dumps(
            {
                "updated_at": time.time(),
                "metrics": metrics,
                "snapshot_version": snapshot_version,
                "rollbacks": rollbacks[-5:],
                "offsets": offsets,
            },
            option=orjson.OPT_NON_STR_KEYS,
        ),
    )


def read_status(settings: Settings) -> dict | None:
    """The learner's last status; raises RedisUnavailable within a second when Redis cannot answer
    (the API's /drift reads it on a request)."""
    raw = open_redis(settings, timeout_s=1.0).hget(RedisKeys(settings.topic_prefix).learner_status, "status")
    return orjson.loads(raw) if raw else None
