"""Where the online learner's state is published for the other services: its status (metrics,
snapshot version, rollbacks, offsets) as one Redis hash field (one per process when learners
scale out, combined on read), its snapshot directory, and the scale-out learners' retrain claim."""

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
    client,
    settings: Settings,
    metrics: dict,
    snapshot_version: int | None,
    rollbacks: list,
    offsets: dict[int, int],
    member: str | None = None,
) -> None:
    """The latest figures, as one Redis hash field (read by the API's /drift and the demo);
    ``member``: a scale-out learner's name (its own field)."""
    client.hset(
        RedisKeys(settings.topic_prefix).learner_status,
        "status" if member is None else f"member:{member}",
        orjson.dumps(
            {
                "updated_at": time.time(),
                "member": member,
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
    fields = open_redis(settings, timeout_s=1.0).hgetall(RedisKeys(settings.topic_prefix).learner_status)
    statuses = [orjson.loads(raw) for raw in fields.values()]
    newest = max((s["updated_at"] for s in statuses), default=0.0)
    return combine_statuses([s for s in statuses if newest - s["updated_at"] <= GONE_AFTER_S])


GONE_AFTER_S = 30.0  # a scale-out learner silent this long has left the group


def combine_statuses(statuses: list[dict]) -> dict | None:
    """One status for the group: metrics weighted by each process's events, offsets joined.

    >>> a = {"updated_at": 2, "member": "a", "metrics": {"events": 3.0, "hit_rate": 0.5},
    ...      "snapshot_version": 4, "rollbacks": [], "offsets": {"0": 9}}
    >>> b = a | {"member": "b", "metrics": {"events": 1.0, "hit_rate": 0.9}, "offsets": {"1": 5}}
    >>> s = combine_statuses([a, b])
    >>> s["metrics"], s["offsets"], [m["member"] for m in s["members"]]
    ({'events': 4.0, 'hit_rate': 0.6}, {'0': 9, '1': 5}, ['a', 'b'])
    """
    if len(statuses) <= 1:
        return statuses[0] if statuses else None
    events = [max(s["metrics"].get("events", 0.0), 0.0) for s in statuses]
    total = sum(events) or 1.0
    names = {name for s in statuses for name in s["metrics"]} - {"events"}
    metrics = {"events": float(sum(events))} | {
        name: round(sum(w * s["metrics"].get(name, 0.0) for w, s in zip(events, statuses, strict=True)) / total, 6)
        for name in sorted(names)
    }
    return {
        "updated_at": max(s["updated_at"] for s in statuses),
        "metrics": metrics,
        "snapshot_version": max((s["snapshot_version"] or 0) for s in statuses),
        "rollbacks": [r for s in statuses for r in s["rollbacks"]][-5:],
        "offsets": {p: o for s in statuses for p, o in s["offsets"].items()},
        "members": [
            {"member": s.get("member"), "events": w, "partitions": sorted(s["offsets"])}
            for w, s in sorted(zip(events, statuses, strict=True), key=lambda pair: str(pair[1].get("member")))
        ],
    }


def claim_retrain(client, settings: Settings, member: str, ttl_s: float):
    """A claim function for scale-out learners: True when ``member`` holds the group's retrain
    claim (taking it if free) -- the holder alone publishes drift events and retrain requests
    until it expires (the cooldown). Without Redis each process decides for itself."""
    import redis

    key = RedisKeys(settings.topic_prefix).learner_retrain_claim

    def claim(trigger: str) -> bool:
        try:
            if client.set(key, f"{member} {time.time()} {trigger}", nx=True, ex=max(1, int(ttl_s))):
                return True
            holder = client.get(key)
            return holder is None or holder.decode().split()[0] == member
        except redis.RedisError:
            return True  # better two requests than none

    return claim


def read_retrain_claim(client, settings: Settings) -> tuple[str, float] | None:
    """(who, when) of the group's current retrain claim."""
    raw = client.get(RedisKeys(settings.topic_prefix).learner_retrain_claim)
    if not raw:
        return None
    member, at, *_ = raw.decode().split()
    return member, float(at)
