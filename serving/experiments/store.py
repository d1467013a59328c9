"""Experiments in Redis, shared by every API replica and the attribution stream.

Keys (under the topic prefix): ``sr:exp:defs`` (id -> definition JSON), ``sr:exp:<id>:stats``
(``<variant>|impressions|conversions|fallbacks|latency_ms``), ``sr:rec:<recommendation_id>``
(-> ``<id>\\t<variant>``, the impression a later interaction is attributed to) and
``sr:conv:<recommendation_id>`` (set once: a served list converts at most once, so a replayed or
re-delivered interaction never counts twice).
"""

from __future__ import annotations

from serving.experiments.plan import Experiment, VariantStats
from streams.stores.keys import RedisKeys

# Count a conversion once per served list, atomically with its once-marker (a crash between the
# two would otherwise lose or double it). Keys are built in the script: one Redis, not a Cluster.
_ATTRIBUTE = """
local rec = redis.call('GET', KEYS[1])
if not rec then return 0 end
local tab = string.find(rec, '\\t', 1, true)
local experiment, variant = string.sub(rec, 1, tab - 1), string.sub(rec, tab + 1)
if ARGV[3] ~= '*' and not string.find(ARGV[3], ',' .. experiment .. ',', 1, true) then return 0 end
if not redis.call('SET', KEYS[2], 1, 'NX', 'EX', ARGV[1]) then return 0 end
redis.call('HINCRBY', ARGV[2] .. experiment .. ':stats', variant .. '|conversions', 1)
return 1
"""


class ExperimentStore:
    def __init__(self, client, prefix: str = "", impression_ttl_s: int = 7 * 24 * 3600):
        self.client, self.ttl = client, impression_ttl_s
        keys = RedisKeys(prefix)
        self.defs, self.exp_prefix = keys.experiment_defs, keys.experiment
        self.rec_prefix, self.conv_prefix = keys.served_list, keys.converted_list
        self._attribute = client.register_script(_ATTRIBUTE)

    @classmethod
    def for_settings(cls, settings) -> ExperimentStore:
        import redis

        return cls(redis.Redis.from_url(settings.redis_url, socket_timeout=1.0), settings.topic_prefix,
                   settings.serve_impression_ttl_s)

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
        return {v: VariantStats(int(f.get("impressions", 0)), int(f.get("conversions", 0)), int(f.get("fallbacks", 0)),
                                f.get("latency_ms", 0.0)) for v, f in fields.items()}

    def record_served(self, experiment_id: str, variant: str, recommendation_id: str, latency_s: float,
                      fallback: bool) -> None:
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
        pipe = self.client.pipeline(transaction=False)
        for rec_id, experiments in rewards:
            only = "*" if experiments is None else "," + ",".join(sorted(experiments)) + ","
            self._attribute(keys=[self.rec_prefix + rec_id, self.conv_prefix + rec_id],
                            args=[self.ttl, self.exp_prefix, only], client=pipe)
        return int(sum(pipe.execute()))
