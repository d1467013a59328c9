"""Redis for the online feature store: Debian's ``redis-server``, installed when allowed."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlparse

from streams.core.errors import InfraError
from streams.infra.process import ManagedProcess


def ensure_redis_server(allow_install: bool) -> str:
    """Path of ``redis-server``; apt-get installs it when missing, allowed and root."""
    found = shutil.which("redis-server")
    if found:
        return found
    if not allow_install:
        raise InfraError(
            "redis-server is not installed: `apt-get install redis-server` "
            "(or set STREAMREC_ALLOW_SYSTEM_INSTALL=true to let streamrec do it)"
        )
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise InfraError(
            "redis-server is not installed and I cannot apt-get it here (need root "
            "and Debian/Ubuntu): install Redis >= 6 and put redis-server on PATH"
        )
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "redis-server"]):
        result = subprocess.run(
            cmd, capture_output=True, text=True, env=os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
        )
        if result.returncode != 0:
            raise InfraError(f"{' '.join(cmd)} failed:\n{result.stderr[-2000:]}")
    return shutil.which("redis-server") or "/usr/bin/redis-server"


# Redis keeps small hashes and sorted sets in one contiguous block (listpack) rather than a hash
# table or skip list: 3-5x fewer bytes. Its defaults give up on a hash at the first value over 64
# bytes (a Feast row's recent items, a worker state) and on a sorted set past 128 members (a
# seen-set). docs/operations.md gives the same settings for a Redis you run yourself.
COMPACT_ENCODINGS = ("--hash-max-listpack-value", "2048", "--zset-max-listpack-entries", "512")


class LocalRedis:
    """A redis-server bound to 127.0.0.1 with its data under ``run_dir``."""

    def __init__(self, run_dir: Path, url: str, allow_install: bool = True):
        parsed = urlparse(url)
        self.host, self.port = parsed.hostname or "127.0.0.1", parsed.port or 6379
        self.run_dir, self.allow_install = Path(run_dir), allow_install
        self.process = ManagedProcess("redis", self.run_dir, [], ready=self.answers)

    def start(self, timeout_s: float = 30.0) -> tuple[bool, float]:
        if self.process.pid() is None:
            server = ensure_redis_server(self.allow_install)
            (self.run_dir / "redis").mkdir(parents=True, exist_ok=True)
            self.process.argv = [
                server,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--dir",
                str(self.run_dir / "redis"),
                "--daemonize",
                "no",
                "--save",
                "60 1000",
                "--appendonly",
                "no",
                "--protected-mode",
                "yes",
                *COMPACT_ENCODINGS,
            ]
        return self.process.start(timeout_s)

    def stop(self) -> bool:
        return self.process.stop()

    def status(self) -> str:
        return self.process.status()

    def answers(self) -> bool:
        import redis  # light import (~50 ms), only when probing

        try:
            return bool(redis.Redis(host=self.host, port=self.port, socket_timeout=0.5).ping())
        except redis.RedisError:
            return False
