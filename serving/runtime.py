"""Wiring for `streamrec serve`: the champion from MLflow (re-checked every few seconds and
swapped in the background), event dedup in Redis, the producer."""

from __future__ import annotations

import logging
import threading

from serving.state import ModelState
from streams.core.settings import Settings
from streams.stores.keys import RedisKeys
from streams.stores.redis_client import open_redis

log = logging.getLogger("streamrec.serve")


def redis_dedup(settings: Settings):
    """event ids -> which were already accepted (SET NX with a TTL, one pipelined round trip per
    call). When Redis is down, every event is accepted: delivery stays at-least-once and the
    stream's consumers dedupe by event_id."""
    import redis

    client = open_redis(settings, timeout_s=0.5)
    prefix = RedisKeys(settings.topic_prefix).event_seen

    def seen(event_ids: list[str]) -> list[bool]:
        try:
            pipe = client.pipeline(transaction=False)
            for event_id in event_ids:
                pipe.set(prefix + event_id, 1, nx=True, ex=settings.serve_dedup_ttl_s)
            return [not created for created in pipe.execute()]
        except redis.RedisError:
            return [False] * len(event_ids)

    def forget(event_ids: list[str]) -> None:
        """Un-mark ids whose events did not reach the broker (best effort)."""
        try:
            if event_ids:
                client.delete(*(prefix + event_id for event_id in event_ids))
        except redis.RedisError:
            pass

    seen.forget = forget
    return seen


def watch_champion(settings: Settings, state: ModelState, stop: threading.Event, every_s: float = 5.0) -> None:
    """Poll the champion alias (cheap) and load a new version in this background thread."""
    from streams.stores.registry import Registry

    registry = Registry.for_settings(settings, settings.serve_model)
    while not stop.is_set():
        try:
            version = registry.alias_version("champion")
            if version is not None and state.reload(registry.load, version):
                log.info("serving %s v%s", settings.serve_model, version)
            state.registry_status = "up"
        except Exception as error:  # noqa: BLE001 -- keep serving the current model
            state.registry_status = f"down: {type(error).__name__}: {str(error)[:200]}"
            log.warning("champion check failed: %s", error)
        stop.wait(every_s)


def experiment_router(settings: Settings, state: ModelState, admin):
    """Experiments in Redis; variants loaded from the MLflow registry; promotion through ``admin``."""
    from mlflow.exceptions import MlflowException

    from serving.experiments.router import ExperimentRouter
    from serving.experiments.store import ExperimentStore
    from streams.stores.registry import Registry

    registry = Registry.for_settings(settings, settings.serve_model)

    def resolve(alias_or_version: str) -> str | None:
        try:
            if alias_or_version.isdigit():
                return str(registry.client.get_model_version(settings.serve_model, alias_or_version).version)
            return registry.alias_version(alias_or_version)
        except MlflowException:  # no such version or alias
            return None

    return ExperimentRouter(
        ExperimentStore.for_settings(settings), state, registry.load, resolve, promote=admin.promote
    )
