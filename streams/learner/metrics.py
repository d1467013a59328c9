"""Learner observability: Prometheus metrics on ``STREAMREC_LEARNER_METRICS_PORT`` (0 = off).

``streamrec_learner_events_total``, ``streamrec_learner_invalid_total``,
``streamrec_learner_published_total{message}``, ``streamrec_learner_drift_total{detector,subject}``,
``streamrec_learner_rollbacks_total``, ``streamrec_learner_metric{name}`` (the prequential metrics:
hit_rate, rolling_hit_rate, rating_mae, click_logloss, click_auc, ...),
``streamrec_learner_snapshot_version``, ``streamrec_learner_latency_seconds`` (record produce
time -> learned and published), and, from a thread that asks the broker every 2 s whether the
learner is busy or stuck, ``streamrec_learner_consumer_lag`` (end offsets minus the learner's
committed offsets) and ``streamrec_learner_behind_seconds`` (while records wait: now minus the
produce time of the newest learned record, a lower bound on the oldest waiting record's age).
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from streams.core.contracts import DriftEvent, Message, ModelUpdate
from streams.core.metrics_http import serve_registry, service_registry

LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class LearnerMetrics:
    def __init__(self):
        self.registry = r = service_registry()
        self.events = Counter("streamrec_learner_events", "interactions learned", registry=r)
        self.invalid = Counter("streamrec_learner_invalid", "records that failed validation (not learned)", registry=r)
        self.published = Counter("streamrec_learner_published", "messages published", ["message"], registry=r)
        self.drift = Counter("streamrec_learner_drift", "drift detections", ["detector", "subject"], registry=r)
        self.rollbacks = Counter("streamrec_learner_rollbacks", "rollbacks to the last snapshot", registry=r)
        self.metric = Gauge(
            "streamrec_learner_metric", "prequential metrics of the online learners", ["name"], registry=r
        )
        self.snapshot_version = Gauge("streamrec_learner_snapshot_version", "latest published snapshot", registry=r)
        self.latency = Histogram(
            "streamrec_learner_latency_seconds", "record produce time -> learned", buckets=LATENCY_BUCKETS, registry=r
        )
        self.lag = Gauge("streamrec_learner_consumer_lag", "records not yet learned (broker-side)", registry=r)
        self.behind = Gauge(
            "streamrec_learner_behind_seconds",
            "while records wait: now - produce time of the newest learned record (0 when caught up)",
            registry=r,
        )
        self.newest_learned_at = 0.0  # produce time (epoch s) of the newest learned record
        self.port: int | None = None
        self._server = None

    def start(self, port: int, host: str = "127.0.0.1") -> None:
        self.port, self._server = serve_registry(self.registry, port, host=host)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def observe_message(self, message: Message) -> None:
        self.published.labels(type(message).__name__).inc()
        if isinstance(message, DriftEvent):
            self.drift.labels(message.detector, message.subject).inc()
        elif isinstance(message, ModelUpdate) and message.metrics.get("rolled_back"):
            self.rollbacks.inc()

    def observe_lag(self, lag: int, now: float) -> None:
        self.lag.set(lag)
        self.behind.set(max(0.0, now - self.newest_learned_at) if lag > 0 and self.newest_learned_at else 0.0)

    def observe_loop(self, metrics: dict[str, float], snapshot_version: int) -> None:
        for name, value in metrics.items():
            self.metric.labels(name).set(float(value))
        self.snapshot_version.set(snapshot_version)
