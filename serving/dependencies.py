"""What ``/ready`` says about the broker and the stores: each dependency probed with a short
deadline, so an outage is reported in well under a second instead of hanging the probe.

A dependency that is down does not make ``/ready`` answer 503: ``/recommend`` still answers
(flagged fallbacks when a store is away), and when every replica shares the outage a 503 would
take the whole service out instead of degrading it. The body and the
``streamrec_api_dependency_up`` gauge say what is down.

>>> def broken():
...     raise ConnectionError("refused")
>>> check({"redis": lambda: None, "broker": broken})
{'redis': 'up', 'broker': 'down: ConnectionError: refused'}
"""

from __future__ import annotations

from collections.abc import Callable

Probe = Callable[[], object]  # raises when its dependency does not answer in time


def check(probes: dict[str, Probe]) -> dict[str, str]:
    """name -> ``up`` or ``down: <why>``; a probe's failure never escapes."""
    out = {}
    for name, probe in probes.items():
        try:
            probe()
            out[name] = "up"
        except Exception as error:  # noqa: BLE001 -- any failure is the answer
            out[name] = f"down: {type(error).__name__}: {str(error)[:200]}"
    return out


def production_probes(settings, producer) -> dict[str, Probe]:
    """The broker (metadata, 0.5 s) and Redis (PING within the request path's store deadline)."""
    from streams.stores.redis_client import open_redis

    client = open_redis(settings, timeout_s=settings.serve_store_timeout_s)
    return {"broker": lambda: producer.reachable(0.5), "redis": client.ping}
