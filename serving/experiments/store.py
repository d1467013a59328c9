"""Experiments in Redis, shared by every API replica and the attribution stream.

Keys (under the topic prefix): ``sr:exp:defs`` (id -> definition JSON), ``sr:exp:<id>:stats``
(``<variant>|impressions|conversions|fallbacks|latency_ms``), ``sr:rec:<recommendation_id>``
(-> ``<id>\\t<variant>``, the impression a later interaction is attributed to) and
``sr:conv:<recommendation_id>`` (set once: a served list converts at most once, so a replayed or
re-delivered interaction never counts twice).
"""

from __future__ import annotations

from serving.experiments.plan import Experiment, VariantStats
from streams.stores.count_once import CountOnce
from streams.stores.keys import RedisKeys


class ExperimentStore:
    def __init__(self, client, prefix: str = "", impression_ttl_s: int = 7 * 24 * 3600):
        self.client, self.ttl = client, impression_ttl_s
        keys = RedisKeys(prefix)
        self.defs, self.exp_prefix = keys.experiment_defs, keys.experiment
        self.rec_prefix, self.conv_prefix = keys.served_list, keys.converted_list
        self._count_once = CountOnce(client)

    @classmethod
    def for_settings(cls, settings) -> ExperimentStore:
        from streams.stores.redis_client import open_redis

        return cls(
            open_redis(settings, timeout_s=1.0),
            settings.topic_prefix,
            settings.serve_impression_ttl_s,
        )

    def save(self, experiment: Experiment) -> None:
        self.client.hset(self.defs, experiment.experiment_id, experiment.model_dump_json())

    def get(self, experiment_id: str) -> Experiment | None:
        raw = self.client.hget(self.defs, experiment_id)
        return Experiment.model_validate_json(raw) if raw else None

    def all(self) -> list[Experiment]:
        found = [Experiment.model_validate_json(raw) for raw in self.client.hvals(self.defs)]
        return sorted(found, key=lambda e: e.created_at)

    def stats(self, experiment_id: str) -> dict[str, VariantStats]:
        fields: dict[str, dict[str, float]] = {}
        for key, value in self.client.hgetall(f"{self.exp_prefix}{experiment_id}:stats").items():
            variant, _, name = key.decode().rpartition("|")
            fields.setdefault(variant, {})[name] = float(value)
        return {
            v: VariantStats(
                int(f.get("impressions", 0)),
                int(f.get("conversions", 0)),
                int(f.get("fallbacks", 0)),
                f.get("latency_ms", 0.0),
            )
            for v, f in fields.items()
        }

    def record_served(
        self, experiment_id: str, variant: str, recommendation_id: str, latency_s: float, fallback: bool
    ) -> None:
        """One impression of ``variant``; remembers which list it was, for attribution."""
        stats = f"{self.exp_prefix}{experiment_id}:stats"
        pipe = self.client.pipeline(transaction=False)
        pipe.set(self.rec_prefix + recommendation_id, f"{experiment_id}\t{variant}", ex=self.ttl)
        pipe.hincrby(stats, f"{variant}|impressions", 1)
        pipe.hincrbyfloat(stats, f"{variant}|latency_ms", latency_s * 1000.0)
        if fallback:
            pipe.hincrby(stats, f"{variant}|fallbacks", 1)
        pipe.execute()

    def attribute(self, rewards: list[tuple[str, set[str] | None]]) -> int:
        """Count each served list's first reward once; returns how many conversions were new.
        ``rewards``: (recommendation id, the experiments this event is a reward for; None = any)."""
        if not rewards:
            return 0
        served = self.client.mget([self.rec_prefix + rec_id for rec_id, _ in rewards])
        pipe = self.client.pipeline(transaction=False)
        for (rec_id, experiments), record in zip(rewards, served, strict=True):
            if record is None:
                continue  # not a list served under an experiment (or its window has passed)
            experiment, _, variant = record.decode().partition("\t")
            if experiments is not None and experiment not in experiments:
                continue
            self._count_once.add(
                pipe,
                self.conv_prefix + rec_id,
                self.ttl,
                f"{self.exp_prefix}{experiment}:stats",
                f"{variant}|conversions",
            )
        return int(sum(pipe.execute()))
