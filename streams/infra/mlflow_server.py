"""An MLflow tracking + registry server on its sqlite backend, so that the trainer, the
stream workers and the API (separate processes) share one registry."""

from __future__ import annotations

import sys
import urllib.request
from pathlib import Path

from streams.infra.process import ManagedProcess


class LocalMlflow:
    def __init__(self, run_dir: Path, port: int = 5000):
        self.run_dir, self.port = Path(run_dir), port
        self.url = f"http://127.0.0.1:{port}"
        store = self.run_dir / "mlflow"
        argv = [
            sys.executable,
            "-m",
            "mlflow",
            "server",
            "--backend-store-uri",
            f"sqlite:///{store / 'mlflow.db'}",
            "--artifacts-destination",
            str(store / "artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ]
        # MLflow 3 starts a job runner and seven huey consumers (about 250 MB and 2.5 s of CPU
        # each at start-up) for jobs streamrec never submits; on two shared cores that start-up
        # lands on the stream
        env = {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
        self.process = ManagedProcess("mlflow", self.run_dir, argv, ready=self.answers, env=env)

    def start(self, timeout_s: float = 120.0) -> tuple[bool, float]:
        (self.run_dir / "mlflow").mkdir(parents=True, exist_ok=True)
        return self.process.start(timeout_s)

    def stop(self) -> bool:
        return self.process.stop()

    def status(self) -> str:
        return self.process.status()

    def answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/health", timeout=1) as resp:
                return resp.status == 200
        except OSError:
            return False
