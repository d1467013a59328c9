"""A background process that outlives the command that started it: pid file, log, readiness."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from streams.core.errors import InfraError


@dataclass
class ManagedProcess:
    """Start/stop/inspect one long-running service process.

    ``ready`` is a cheap probe (returns True once the service answers); it decides both
    readiness after :meth:`start` and the ``running`` state reported by :meth:`status`.
    """

    name: str
    run_dir: Path
    argv: list[str]
    ready: Callable[[], bool]
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None

    @property
    def pid_file(self) -> Path:
        return self.run_dir / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return self.run_dir / f"{self.name}.log"

    def pid(self) -> int | None:
        """The pid from the pid file if that very process is alive, else None (stale files removed).
        The file holds the pid and the process's start time: after a reboot the pid may belong to a
        stranger, whose start time differs, so it is never signalled."""
        try:
            pid_text, _, started = self.pid_file.read_text().strip().partition(" ")
            pid = int(pid_text)
            if start_time(pid) is None or (started and start_time(pid) != started):
                raise ProcessLookupError(pid)  # gone, or a recycled pid
            return pid
        except (FileNotFoundError, ValueError, ProcessLookupError):
            self.pid_file.unlink(missing_ok=True)
            return None

    def start(self, timeout_s: float = 60.0) -> tuple[bool, float]:
        """Start unless already running; wait until ready. Returns (started_now, seconds_waited)."""
        began = time.monotonic()
        if self.pid() is not None or self.ready():  # ours, or one already answering on the port
            self._wait_ready(began, timeout_s)
            return False, time.monotonic() - began
        self.run_dir.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            proc = subprocess.Popen(
                self.argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=os.environ | self.env,
                cwd=self.cwd,
                start_new_session=True,
            )
        self.pid_file.write_text(f"{proc.pid} {start_time(proc.pid) or ''}".strip())
        self._wait_ready(began, timeout_s, proc)
        return True, time.monotonic() - began

    def stop(self, timeout_s: float = 30.0) -> bool:
        """SIGTERM, then SIGKILL after ``timeout_s``. Returns False if it was not running."""
        pid = self.pid()
        if pid is None:
            return False
        os.killpg(pid, signal.SIGTERM) if _is_group_leader(pid) else os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.1)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
        self.pid_file.unlink(missing_ok=True)
        return True

    def status(self) -> str:
        if self.pid() is None:
            return "running (not started here)" if self.ready() else "stopped"
        return "running" if self.ready() else "starting (not answering yet)"

    def _wait_ready(self, began: float, timeout_s: float, proc: subprocess.Popen | None = None) -> None:
        while time.monotonic() - began < timeout_s:
            if self.ready():
                return
            if proc is not None and proc.poll() is not None:
                self.pid_file.unlink(missing_ok=True)
                raise InfraError(
                    f"{self.name} exited with code {proc.returncode}; "
                    f"last lines of {self.log_file}:\n{tail(self.log_file)}"
                )
            time.sleep(0.2)
        raise InfraError(f"{self.name} not ready after {timeout_s:.0f}s; see {self.log_file}:\n{tail(self.log_file)}")


def start_time(pid: int) -> str | None:
    """When the process started (clock ticks since boot, /proc/<pid>/stat field 22); None if it
    is gone or a zombie (dead, not yet reaped: a crashed child of ours must read as gone).

    >>> start_time(os.getpid()) is not None, start_time(2**22 + 1)
    (True, None)
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()  # fields after the command name start at field 3
    return None if fields[0] == "Z" else fields[19]


def tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie child of ours counts as gone
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return True


def _is_group_leader(pid: int) -> bool:
    try:
        return os.getpgid(pid) == pid
    except ProcessLookupError:
        return False
