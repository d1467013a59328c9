"""Worker observability: Prometheus metrics and a status heartbeat in Redis.

Metrics (``/metrics`` on ``STREAMREC_WORKER_METRICS_PORT``; 0 = off, busy = next free port):
``streamrec_worker_records_total{source,outcome}``, ``streamrec_worker_dead_lettered_total``,
``streamrec_worker_retries_total``, ``streamrec_worker_batch_size``, ``streamrec_worker_batch_seconds``,
``streamrec_worker_freshness_seconds`` (record produce time -> features written),
``streamrec_worker_consumer_lag``. The heartbeat (``sr:workers`` hash) feeds ``streamrec worker status``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
import time
from collections import deque

import orjson
from prometheus_client import Counter, Gauge, Histogram

from streams.core.metrics_http import serve_registry, service_registry
from streams.core.settings import Settings
from streams.stores.worker_status import workers_key

log = logging.getLogger("streamrec.worker")
HEARTBEAT_S = 2.0
FRESHNESS_WINDOW_S = 15.0  # status quantiles cover the records processed in this last stretch
FRESHNESS_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class WorkerMetrics:
    def __init__(self, settings: Settings, worker_id: str):
        self.settings, self.worker_id = settings, worker_id
        self.registry = service_registry()
        r = self.registry
        self.records = Counter("streamrec_worker_records", "records processed", ["source", "outcome"], registry=r)
        self.dead_lettered = Counter(
            "streamrec_worker_dead_lettered", "records sent to the DLQ", ["source"], registry=r
        )
        self.retries = Counter(
            "streamrec_worker_retries", "batch retries after infrastructure errors", ["agent"], registry=r
        )
        self.batch_size = Histogram(
            "streamrec_worker_batch_size",
            "records per micro-batch",
            ["source"],
            buckets=(1, 10, 50, 100, 250, 500, 1000, 2000, 5000),
            registry=r,
        )
        self.batch_seconds = Histogram(
            "streamrec_worker_batch_seconds", "time to process a batch", ["source"], registry=r
        )
        self.freshness = Histogram(
            "streamrec_worker_freshness_seconds",
            "record produce time -> features written",
            ["source"],
            buckets=FRESHNESS_BUCKETS,
            registry=r,
        )
        self.lag = Gauge("streamrec_worker_consumer_lag", "records behind the high watermark", ["source"], registry=r)
        self.totals = {"processed": 0, "dead_lettered": 0, "skipped": 0, "batches": 0}
        self.recent_freshness: deque[tuple[float, float]] = deque(maxlen=200_000)  # (processed at, age)
        self.positions: dict[tuple[str, int], int] = {}
        self.lags: dict[str, int] = {}
        self.port: int | None = None
        self.event_loop: str | None = None
        self.started = time.time()
        self._last_batch_at = 0.0

    def start(self) -> None:
        """Serve the metrics and start the heartbeat; called on the worker's event loop."""
        self.event_loop = type(asyncio.get_running_loop()).__module__.split(".")[0]  # "uvloop" or "asyncio"
        self.port, _ = serve_registry(self.registry, self.settings.worker_metrics_port, host=self.settings.metrics_host)
        threading.Thread(target=self._heartbeat, name="streamrec-heartbeat", daemon=True).start()

    def record(self, result, source: str) -> None:
        self.records.labels(source, "applied").inc(result.applied)
        self.records.labels(source, "skipped").inc(result.skipped)
        self.records.labels(source, "duplicate").inc(result.duplicates)
        self.totals["processed"] += result.applied + result.skipped
        self.totals["skipped"] += result.skipped
        self.totals["dead_lettered"] += len(result.dead_letters)

    def observe_batch(self, source: str, records, seconds: float, app) -> None:
        now_ms = time.time() * 1000
        self.batch_size.labels(source).observe(len(records))
        self.batch_seconds.labels(source).observe(seconds)
        hist = self.freshness.labels(source)
        for r in records:
            if r.timestamp_ms:
                age = max(0.0, (now_ms - r.timestamp_ms) / 1000)
                hist.observe(age)
                if source == "interactions":
                    self.recent_freshness.append((now_ms / 1000, age))
            self.positions[(r.topic, r.partition)] = r.offset
        self.totals["batches"] += 1
        self._last_batch_at = time.time()
        self._update_lag(app, source)

    def _update_lag(self, app, source: str) -> None:
        try:
            from faust.types import TP

            topic = next((t for t, _ in self.positions if t.endswith(source)), None)
            lag = 0
            for (t, partition), offset in self.positions.items():
                if t == topic:
                    high = app.consumer.highwater(TP(t, partition))
                    lag += max(0, (high or 0) - offset - 1)
            self.lags[source] = lag
            self.lag.labels(source).set(lag)
        except Exception:  # noqa: BLE001 - lag is best effort
            pass

    def snapshot(self) -> dict:
        since = time.time() - FRESHNESS_WINDOW_S
        fresh = sorted(age for at, age in list(self.recent_freshness) if at >= since)

        def q(p: float) -> float | None:
            return round(fresh[min(len(fresh) - 1, int(p * len(fresh)))], 4) if fresh else None

        return {
            "worker": self.worker_id,
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": self.started,
            "heartbeat": time.time(),
            "last_batch_at": self._last_batch_at,
            "metrics_port": self.port,
            "event_loop": self.event_loop,
            "lag": sum(self.lags.values()),
            "freshness_p50_s": q(0.5),
            "freshness_p99_s": q(0.99),
            **self.totals,
        }

    def _heartbeat(self) -> None:
        import redis

        client = redis.Redis.from_url(self.settings.redis_url, socket_timeout=5)
        key = workers_key(self.settings.topic_prefix)
        while True:
            try:
                client.hset(key, self.worker_id, orjson.dumps(self.snapshot()))
            except Exception as exc:  # noqa: BLE001 - keep beating
                log.debug("heartbeat failed: %s", exc)
            time.sleep(HEARTBEAT_S)
