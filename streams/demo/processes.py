"""The system's services as real processes (`streamrec worker|learner|trainer|serve`), configured
by the same Settings, each logging to its own file, stopped politely (SIGTERM, then SIGKILL)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from pydantic import SecretStr

from streams.core.settings import Settings


def settings_env(settings: Settings) -> dict[str, str]:
    """The Settings as ``STREAMREC_*`` variables, so a child process sees exactly these settings.

    >>> env = settings_env(Settings(topic_prefix="demo-", serve_port=8123, _env_file=None))
    >>> env["STREAMREC_TOPIC_PREFIX"], env["STREAMREC_SERVE_PORT"]
    ('demo-', '8123')
    """
    env = {}
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if value is None:
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        elif isinstance(value, (list, tuple, dict)):
            value = json.dumps(value)
        elif isinstance(value, bool):
            value = "true" if value else "false"
        env[f"STREAMREC_{name.upper()}"] = str(value)
    return env


class Service:
    def __init__(self, name: str, args: list[str], settings: Settings, log_dir: Path):
        self.name, self.args = name, args
        self.env = os.environ | settings_env(settings) | {"PYTHONUNBUFFERED": "1"}
        self.log_path = log_dir / f"{name}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> Service:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "streams.cli.main", *self.args],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, timeout_s: float = 20.0) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + timeout_s
            while self.process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.1)
            if self.process.poll() is None:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        return self.process.returncode
