"""The API's Prometheus metrics, in a registry of its own (one per app), and the middleware that
records every request."""

from __future__ import annotations

import time

from prometheus_client import Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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
        self.read_your_writes = Counter(
            "streamrec_api_read_your_writes",
            "answers by how their wait for the user's acknowledged events ended "
            "(caught_up; timed_out: the stream tail was behind; unavailable: the broker did not answer; "
            "skipped: it failed less than a second ago)",
            ["outcome"],
            registry=r,
        )
        self.popular_now_weight = Gauge(
            "streamrec_api_popular_now_weight",
            "the weight answers fuse what is popular right now with (the model's own, or the one "
            "the judge found to serve best; 0: the model's list alone)",
            registry=r,
        )
        self.popular_now_judged = Gauge(
            "streamrec_api_popular_now_judgments",
            "answers judged on the user's next interaction, for the popular-now weight",
            registry=r,
        )
        self.item_refresh = Gauge(
            "streamrec_api_item_features_refresh_seconds",
            "how long the latest refresh of the cached item features took (their staleness is at most "
            "STREAMREC_SERVE_ITEM_FEATURES_TTL_S plus this)",
            registry=r,
        )


class RequestMetrics:
    """ASGI middleware: each HTTP request's latency (to its last body byte) and status, by route.
    Plain ASGI rather than ``@app.middleware("http")``, whose per-request task and streams cost
    about half a millisecond on ``/recommend``."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics):
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began, status, took = time.perf_counter(), 500, None

        async def watched(message: Message) -> None:
            nonlocal status, took
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                took = time.perf_counter() - began  # what the caller waited; background tasks come after

        try:
            await self.app(scope, receive, watched)
        finally:
            route = scope.get("route")
            endpoint = route.path if route is not None else "unmatched"
            self.metrics.latency.labels(endpoint).observe(took if took is not None else time.perf_counter() - began)
            self.metrics.requests.labels(endpoint, str(status)).inc()
