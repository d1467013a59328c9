"""The demo's watch: drift events, retrain requests and model updates as they happen, and a sample
of the whole system every second (produced, learned, lags, freshness, the served version)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import httpx
from confluent_kafka import KafkaException

from streams.core.contracts import DriftEvent, ModelUpdate, RetrainRequest, decode
from streams.core.errors import InvalidEvent
from streams.core.settings import Settings
from streams.core.topics import TopicCatalog
from streams.demo.results import DemoResult
from streams.kafka.readers import GroupLag
from streams.kafka.runner import Batch, ConsumeRunner


class Watch:
    """Consumes drift-events, retrain-requests and model-updates, and samples the system every second."""

    def __init__(
        self,
        settings: Settings,
        catalog: TopicCatalog,
        result: DemoResult,
        began: float,
        api_url: str,
        produced: Callable[[], tuple[int, list[float]]],
    ):
        self.settings, self.catalog, self.result, self.began, self.api = settings, catalog, result, began, api_url
        self.produced = produced
        self.stop = threading.Event()
        self.champion: str | None = None
        self.served: str | None = None
        self.threads = [
            threading.Thread(target=self._consume, daemon=True, name="demo-watch"),
            threading.Thread(target=self._sample, daemon=True, name="demo-sample"),
        ]

    def start(self) -> Watch:
        for t in self.threads:
            t.start()
        return self

    def close(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=10)

    def now(self) -> float:
        return time.monotonic() - self.began

    def _consume(self) -> None:
        topics = {self.catalog.name(n): n for n in ("drift-events", "retrain-requests", "model-updates")}
        runner = ConsumeRunner(
            self.settings,
            group=f"{self.settings.worker_group}-demo-{time.time_ns()}",
            topics=list(topics),
            commit="none",
            config={"auto.offset.reset": "latest"},
        )

        def handle(batch: Batch) -> None:
            for record in batch.records:
                kind = topics[record.topic]
                try:
                    label = self._label(kind, record.value or b"")
                except InvalidEvent as error:
                    label = f"unreadable {kind} record at offset {record.offset}: {error}"
                self.result.markers.append({"t": round(self.now(), 2), "kind": kind, "label": label})

        runner.run(handle, self.stop)

    def _label(self, kind: str, value: bytes) -> str:
        if kind == "drift-events":
            e = decode(DriftEvent, value)
            return f"drift: {e.detector} on {e.subject} (statistic {e.statistic:.3g}, threshold {e.threshold:.3g})"
        if kind == "retrain-requests":
            e = decode(RetrainRequest, value)
            return f"retrain requested ({e.trigger.value}): {e.reason[:160]}"
        e = decode(ModelUpdate, value)
        if e.alias == "champion" and e.model_name == self.settings.serve_model:
            self.champion = e.version
        return f"{e.model_name} v{e.version} -> {e.alias}"

    def _feature_freshness(self) -> float | None:
        """The slowest worker's freshness p99 over its last 15 s (record produced -> features written)."""
        from streams.stores.worker_status import read_statuses

        try:
            found = [w["freshness_p99_s"] for w in read_statuses(self.settings) if w.get("freshness_p99_s") is not None]
        except Exception:  # noqa: BLE001 - a figure of the live view, never a reason to stop it
            return None
        return max(found, default=None)

    def _sample(self) -> None:
        from streams.stores.learner_status import read_status
        from streams.stores.redis_client import RedisUnavailable

        worker_lag = GroupLag(self.settings, self.settings.worker_group, self.catalog.name("interactions"))
        last_count, last_t = 0, self.now()
        with httpx.Client(timeout=2.0) as http:
            while not self.stop.wait(1.0):
                count, produced_at = self.produced()
                t = self.now()
                sample = {
                    "t": round(t, 2),
                    "produced": count,
                    "produce_rate": (count - last_count) / max(t - last_t, 1e-9),
                }
                last_count, last_t = count, t
                try:
                    status = read_status(self.settings) or {}
                except RedisUnavailable:  # a hiccup: skip the figure
                    status = {}
                metrics = status.get("metrics", {})
                learned = int(metrics.get("events", 0))
                sample |= {
                    "learned": learned,
                    "learner_lag": max(count - learned, 0),  # no metric before any event
                    "hit_rate": metrics.get("rolling_hit_rate") if learned else None,
                    "click_auc": metrics.get("click_auc") if learned else None,
                }
                # freshness: age of the oldest event produced but not yet learned
                sample["freshness_s"] = (
                    round(time.monotonic() - produced_at[learned], 3)
                    if learned < count and learned < len(produced_at)
                    else 0.0
                )
                try:
                    sample["worker_lag"] = worker_lag()
                except KafkaException:
                    sample["worker_lag"] = None
                sample["feature_freshness_p99_s"] = self._feature_freshness()
                try:
                    ready = http.get(f"{self.api}/ready").json()
                    self.served = ready.get("model_version") if ready.get("model_loaded") else None
                except (httpx.HTTPError, ValueError):  # the API is still starting: keep the last answer
                    pass
                sample["served_version"] = self.served
                self.result.samples.append(sample)
        worker_lag.close()
