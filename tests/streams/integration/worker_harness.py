"""Run real `streamrec worker` processes against the test broker and a test Redis."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import redis

from streams.core.settings import Settings
from streams.stores.worker_status import read_statuses


class WorkerProcess:
    def __init__(self, settings: Settings, name: str, log_dir: Path):
        self.settings, self.name = settings, name
        self.log_path = log_dir / f"{name}.log"
        self.proc: subprocess.Popen | None = None

    def env(self) -> dict[str, str]:
        s = self.settings
        return os.environ | {
            "STREAMREC_KAFKA_BOOTSTRAP_SERVERS": s.kafka_bootstrap_servers,
            "STREAMREC_TOPIC_PREFIX": s.topic_prefix,
            "STREAMREC_REDIS_URL": s.redis_url,
            "STREAMREC_RUN_DIR": str(s.run_dir),
            "STREAMREC_WORKER_GROUP": s.worker_group,
            "STREAMREC_WORKER_METRICS_PORT": "0",
            "STREAMREC_WORKER_BATCH_SIZE": str(s.worker_batch_size),
            "STREAMREC_WORKER_PROCESSING_PROCESS": str(s.worker_processing_process).lower(),
        }

    def start(self) -> WorkerProcess:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streams.cli.main", "worker", "--worker-id", self.name],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=self.env(),
            start_new_session=True,
        )
        return self

    def kill9(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)

    def status(self) -> dict | None:
        return next((s for s in read_statuses(self.settings) if s["worker"] == self.name), None)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


def wait_for(condition, timeout_s: float, what: str, interval: float = 0.5, on_timeout=lambda: ""):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what}\n{on_timeout()}")


def category_count(settings: Settings) -> int:
    return redis.Redis.from_url(settings.redis_url).hlen(f"{settings.topic_prefix}sr:item-category")
