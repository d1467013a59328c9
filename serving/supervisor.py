"""The API's background threads (champion watch, Kafka path, experiment control, reward attribution,
online snapshots), supervised: a thread that fails is logged and restarted after a back-off, and
``/ready`` says which one is down meanwhile, instead of the process serving on with a dead part."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger("streamrec.serve")


@dataclass
class Supervisor:
    stop: threading.Event
    max_backoff_s: float = 30.0
    down: dict[str, str] = field(default_factory=dict)  # thread name -> why it is down
    restarts: dict[str, int] = field(default_factory=dict)

    def start(self, name: str, target: Callable, *args, **kwargs) -> threading.Thread:
        self.restarts.setdefault(name, 0)
        thread = threading.Thread(target=self._run, args=(name, target, args, kwargs), daemon=True, name=name)
        thread.start()
        return thread

    def status(self) -> dict[str, str]:
        return {name: ("down: " + self.down[name]) if name in self.down else "up" for name in self.restarts}

    def _run(self, name: str, target: Callable, args: tuple, kwargs: dict) -> None:
        backoff = 1.0
        while not self.stop.is_set():
            began = time.monotonic()
            try:
                target(*args, **kwargs)
                if self.stop.is_set():
                    return
                self.down[name] = "returned unexpectedly"
            except Exception as error:
                self.down[name] = f"{type(error).__name__}: {error}"[:300]
                log.exception("background thread %s failed; restarting in %.0fs", name, backoff)
            if time.monotonic() - began > 60:
                backoff = 1.0  # it had run fine for a while: a fresh failure, not a crash loop
            self.stop.wait(backoff)
            backoff = min(backoff * 2, self.max_backoff_s)
            self.restarts[name] += 1
            self.down.pop(name, None)
