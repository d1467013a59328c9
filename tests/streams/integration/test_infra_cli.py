"""`streamrec infra up|status|down` on free ports in a temp run dir: idempotent, honest status."""

import os
import subprocess
import sys

import pytest

from streams.infra.kafka import free_port

pytestmark = pytest.mark.integration


def test_infra_up_status_down_are_idempotent(tmp_path):
    env = os.environ | {
        "STREAMREC_RUN_DIR": str(tmp_path / "run"),
        "STREAMREC_KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}",
        "STREAMREC_KAFKA_CONTROLLER_PORT": str(free_port()),
        "STREAMREC_KAFKA_HEAP": "512m",
        "STREAMREC_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
        "STREAMREC_MLFLOW_TRACKING_URI": f"http://127.0.0.1:{free_port()}",
    }

    def cli(*args):
        return subprocess.run(
            [sys.executable, "-m", "streams.cli.main", "infra", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=240,
        )

    try:
        first = cli("up")
        assert first.returncode == 0, first.stdout + first.stderr
        assert first.stdout.count("started (") == 3
        again = cli("up")
        assert again.returncode == 0 and again.stdout.count("already running") == 3
        status = cli("status")
        assert status.returncode == 0 and status.stdout.count("running") == 3
    finally:
        down = cli("down")
    assert down.returncode == 0 and down.stdout.count("stopped") == 3
    after = cli("status")
    assert after.returncode == 1 and after.stdout.count("stopped") == 3
    assert cli("down").stdout.count("was not running") == 3
