"""`streamrec serve` as a process: up, answering, and a clean stop on SIGTERM exits 0."""

import os
import signal
import subprocess
import sys
import time

import httpx
import pytest

from streams.demo.processes import settings_env
from streams.infra.kafka import free_port

pytestmark = pytest.mark.integration


def test_serve_exits_0_on_sigterm(settings, redis_url, tmp_path):
    s = settings.model_copy(update={"redis_url": redis_url, "serve_port": free_port(), "run_dir": tmp_path})
    env = os.environ | settings_env(s) | {"PYTHONUNBUFFERED": "1"}
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "streams.cli.main", "serve"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{s.serve_port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
            time.sleep(0.2)
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0, (tmp_path / "serve.log").read_text()[-2000:]
    finally:
        if process.poll() is None:
            process.kill()
