"""``streamrec bench faults``, the serving part: a real ``streamrec serve`` process on a broker,
Redis and MLflow server of the benchmark's own, under 4 clients calling ``/recommend`` and one
posting ``/events``, while each dependency fails in turn (Redis frozen with SIGSTOP, the broker
and MLflow killed with SIGKILL, then restarted). Per phase: 5xx, client timeouts, latency
percentiles, fallback share, and how ``/events`` answered."""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from dataclasses import dataclass, field

import httpx
import numpy as np

from streams.core.contracts import Interaction, RetrainRequest
from streams.core.settings import Settings
from streams.core.topics import TopicCatalog
from streams.demo.processes import Service
from streams.infra.kafka import LocalKafka, free_port
from streams.infra.mlflow_server import LocalMlflow
from streams.infra.redis import LocalRedis
from streams.kafka.admin import apply_topics

CLIENTS = 4
CLIENT_TIMEOUT_S = 10.0


@dataclass
class Phase:
    name: str
    seconds: float
    latencies: list[float] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  # 0: the client's timeout or a reset
    fallbacks: int = 0
    event_statuses: list[int] = field(default_factory=list)
    event_latencies: list[float] = field(default_factory=list)

    def row(self) -> str:
        done = [lat for lat, st in zip(self.latencies, self.statuses, strict=True) if st]
        p50, p99 = (np.percentile(done, [50, 99]) * 1000) if done else (float("nan"),) * 2
        server_errors = sum(500 <= s < 600 for s in self.statuses)
        lost = self.statuses.count(0)
        events = ", ".join(
            f"{s or 'timeout'}: {self.event_statuses.count(s)}" for s in sorted(set(self.event_statuses))
        )
        slowest_event = max(self.event_latencies, default=float("nan")) * 1000
        fallback = self.fallbacks / max(len(done), 1)
        return (
            f"| {self.name} | {len(self.statuses) / self.seconds:,.0f} | {server_errors} | {lost} | {p50:,.1f} | "
            f"{p99:,.1f} | {fallback:.0%} | {events or '-'} | {slowest_event:,.0f} |"
        )


HEADER = (
    "| phase | /recommend req/s | 5xx | client timeouts | p50 ms | p99 ms | fallback answers | "
    "/events answers | slowest /events ms |\n|---|---|---|---|---|---|---|---|---|"
)


def serving_outages(settings: Settings, seconds: float, progress) -> list[Phase]:
    run = uuid.uuid4().hex[:8]
    root = settings.run_dir / "bench-outages" / run
    broker = LocalKafka(root / "kafka", free_port(), free_port(), heap="512m")
    redis = LocalRedis(root / "redis-server", f"redis://127.0.0.1:{free_port()}/0", allow_install=False)
    registry = LocalMlflow(root / "mlflow-server", free_port())
    for service in (broker, redis, registry):
        service.start(timeout_s=180)
    s = settings.model_copy(
        update={
            "kafka_bootstrap_servers": broker.bootstrap,
            "redis_url": f"redis://127.0.0.1:{redis.port}/0",
            "mlflow_tracking_uri": registry.url,
            "topic_prefix": f"outages{run}-",
            "run_dir": root,
            "serve_port": free_port(),
        }
    )
    api = Service("serve", ["serve"], s, root)
    phases: list[Phase] = []
    try:
        apply_topics(s, TopicCatalog.load(s.topics_file, s.topic_prefix))
        _feature_definitions(s)
        _train_a_champion(s)
        api.start()
        base = f"http://127.0.0.1:{s.serve_port}"
        _until(lambda: _ready(base), 180, f"the API to be ready:\n{api.tail()}")
        progress(f"outages: API up at {base}; {CLIENTS} clients, {seconds:.0f} s per phase")
        plan = [
            ("steady", None, None),
            ("Redis frozen (SIGSTOP)", lambda: _signal(redis, signal.SIGSTOP), lambda: _signal(redis, signal.SIGCONT)),
            ("after Redis", None, None),
            ("broker killed (SIGKILL)", lambda: _kill(broker), lambda: broker.start(timeout_s=180)),
            ("after the broker", None, None),
            ("MLflow killed (SIGKILL)", lambda: _kill(registry), lambda: registry.start(timeout_s=180)),
            ("after MLflow", None, None),
        ]
        for name, fail, heal in plan:
            if fail is not None:
                fail()
            phases.append(_load(base, name, seconds))
            progress(f"outages: {phases[-1].row()}")
            if heal is not None:
                heal()
    finally:
        api.stop()
        for service in (registry, redis, broker):
            _signal(service, signal.SIGCONT)
            service.stop()
    return phases


def _feature_definitions(s: Settings) -> None:
    """What a worker does first (``feast apply``): without it the API has no feature views."""
    from streams.stores.feast import apply_definitions, open_store

    apply_definitions(open_store(s), s.feature_repo)


def _train_a_champion(s: Settings) -> None:
    from models.batch.data import frame_from_events
    from models.batch.pipeline import TrainConfig
    from streams.sources.synthetic import SimulationConfig, simulate
    from streams.trainer.job import run_training

    sim = SimulationConfig(n_events=8_000, n_users=100, n_items=80, n_categories=4, seed=3)
    frame = frame_from_events([m for m in simulate(sim) if isinstance(m, Interaction)])
    request = RetrainRequest(model_name="ranker", trigger="manual", reason="bench faults")
    outcome = run_training(s, request, frame, TrainConfig(use_sasrec=False))
    if outcome.status != "promoted":
        raise RuntimeError(f"no champion to serve: {outcome.status} ({outcome.reason})")


def _load(base: str, name: str, seconds: float) -> Phase:
    phase, lock, end = Phase(name, seconds), threading.Lock(), time.monotonic() + seconds

    def recommender(n: int) -> None:
        with httpx.Client(timeout=CLIENT_TIMEOUT_S) as http:
            k = 0
            while time.monotonic() < end:
                k += 1
                status, took, body = _call(
                    http.post, f"{base}/recommend", {"user_id": f"u{(n * 997 + k) % 100}", "k": 10}
                )
                with lock:
                    phase.statuses.append(status)
                    phase.latencies.append(took)
                    phase.fallbacks += bool(body and body.get("fallback"))

    def ingest() -> None:
        with httpx.Client(timeout=CLIENT_TIMEOUT_S) as http:
            k = 0
            while time.monotonic() < end:
                k += 1
                event = {"user_id": f"u{k % 100}", "item_id": f"i{k % 80}", "event_type": "click"}
                status, took, _ = _call(http.post, f"{base}/events", event)
                with lock:
                    phase.event_statuses.append(status)
                    phase.event_latencies.append(took)
                time.sleep(0.1)

    threads = [threading.Thread(target=recommender, args=(n,)) for n in range(CLIENTS)]
    threads.append(threading.Thread(target=ingest))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return phase


def _call(method, url: str, body: dict) -> tuple[int, float, dict | None]:
    began = time.monotonic()
    try:
        response = method(url, json=body)
    except httpx.HTTPError:
        return 0, time.monotonic() - began, None
    took = time.monotonic() - began
    try:
        return response.status_code, took, response.json()
    except ValueError:
        return response.status_code, took, None


def _ready(base: str) -> bool:
    try:
        return httpx.get(f"{base}/ready", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _until(condition, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"outages benchmark: {what}")
        time.sleep(0.5)


def _signal(service, sig: signal.Signals) -> None:
    if (pid := service.process.pid()) is not None:
        os.kill(pid, sig)


def _kill(service) -> None:
    """SIGKILL to the service's whole process group (MLflow's server has workers)."""
    if (pid := service.process.pid()) is not None:
        os.killpg(pid, signal.SIGKILL)
        time.sleep(0.5)
