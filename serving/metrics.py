"""The API's Prometheus metrics, in a registry of its own (one per app)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from streams.core.metrics_http import service_registry


class ApiMetrics:
    def __init__(self):
        self.registry = r = service_registry()
        self.requests = Counter("streamrec_api_requests", "HTTP requests", ["endpoint", "status"], registry=r)
        self.latency = Histogram(
            "streamrec_api_latency_seconds",
            "request latency",
            ["endpoint"],
            registry=r,
            buckets=(0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
        )
        self.fallbacks = Counter("streamrec_api_fallbacks", "answers from the fallback list", ["reason"], registry=r)
        self.dependency_up = Gauge(
            "streamrec_api_dependency_up",
            "1 when the dependency answered /ready's last probe",
            ["dependency"],
            registry=r,
        )
        self.events = Counter("streamrec_api_events", "events accepted", ["outcome"], registry=r)
