"""Prometheus metrics of `streamrec trainer`: runs by outcome, their duration, the champion."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from streams.core.metrics_http import serve_registry, service_registry


class TrainerMetrics:
    def __init__(self):
        self.registry = r = service_registry()
        self.runs = Counter("streamrec_trainer_runs", "training requests handled", ["trigger", "status"], registry=r)
        self.seconds = Histogram(
            "streamrec_trainer_run_seconds",
            "time to handle one request",
            registry=r,
            buckets=(5, 15, 30, 60, 120, 300, 600, 1200, 3600),
        )
        self.champion = Gauge(
            "streamrec_trainer_champion_version", "champion version after the last run", ["model"], registry=r
        )
        self.ndcg = Gauge(
            "streamrec_trainer_candidate_ndcg_at_10",
            "holdout NDCG@10 of the last trained version",
            ["model"],
            registry=r,
        )
        self._server = None

    def start(self, port: int, host: str = "127.0.0.1") -> int | None:
        port, self._server = serve_registry(self.registry, port, host=host)
        return port

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def observe(self, trigger: str, outcome, seconds: float) -> None:
        self.runs.labels(trigger, outcome.status).inc()
        self.seconds.observe(seconds)
        for update in outcome.updates:
            if update.alias == "champion":
                self.champion.labels(update.model_name).set(float(update.version))
        for name, value in outcome.metrics.items():
            if name in ("ndcg_at_10", "ndcg@10"):
                self.ndcg.labels("ranker").set(value)
