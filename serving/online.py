"""The online learner's scores in serving: the learner's latest snapshot (its implicit-feedback
matrix factorisation, updated on every event) re-ranks the batch model's top candidates, so a
user whose tastes moved since the last retrain sees it within seconds.

>>> blend([("a", 3.0), ("b", 2.0), ("c", 1.0)], {"a": 0.0, "b": 0.1, "c": 0.9}, weight=0.7, k=2)
[('c', 0.7), ('a', 0.3)]
>>> blend([("a", 3.0), ("b", 2.0)], {"a": 0.5, "b": 0.5}, weight=0.7, k=2)  # no opinion: batch order
[('a', 0.3), ('b', 0.0)]
"""

from __future__ import annotations

import logging
import pickle
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

log = logging.getLogger("streamrec.online")


def _unit(values: Sequence[float]) -> list[float]:
    low, high = min(values), max(values)
    return [0.0] * len(values) if high - low < 1e-12 else [(v - low) / (high - low) for v in values]


def blend(
    ranked: Sequence[tuple[str, float]], online: Mapping[str, float], weight: float, k: int
) -> list[tuple[str, float]]:
    """Mix the batch ranking with the online scores, each scaled to [0, 1] over these candidates."""
    if not ranked:
        return []
    batch = _unit([s for _, s in ranked])
    fresh = _unit([online.get(i, 0.0) for i, _ in ranked])
    mixed = [
        (item, round((1 - weight) * b + weight * f, 6)) for (item, _), b, f in zip(ranked, batch, fresh, strict=True)
    ]
    return sorted(mixed, key=lambda pair: -pair[1])[:k]


class OnlineScorer:
    """Loads the learner's newest snapshot from its directory (re-checked every ``refresh_s``)."""

    def __init__(self, directory: Path, weight: float, refresh_s: float = 10.0):
        from models.snapshots import SnapshotStore

        self.directory, self.weight, self.refresh_s = Path(directory), weight, refresh_s
        self._store = SnapshotStore(self.directory)
        self._learner, self.version = None, None
        self._lock = threading.Lock()

    @classmethod
    def for_settings(cls, settings) -> OnlineScorer:
        from streams.stores.learner_status import snapshot_dir

        return cls(snapshot_dir(settings), settings.serve_online_weight)

    def refresh(self) -> bool:
        """Load a newer snapshot if there is one; True when it changed."""
        latest = self._store.latest()
        if latest is None or latest.version == self.version:
            return False
        model = self._store.load_online(latest)
        if model is None:
            return False
        with self._lock:
            self._learner, self.version = model, latest.version
        return True

    def scores(self, user_id: str, items: Sequence[str]) -> dict[str, float] | None:
        learner = self._learner
        if learner is None or self.weight <= 0:
            return None
        return {item: learner.predict_one(user_id, item) for item in items}


def watch_snapshots(scorer: OnlineScorer, stop: threading.Event) -> None:
    """Background thread of `streamrec serve`."""
    while not stop.is_set():
        try:
            if scorer.refresh():
                log.info("online learner snapshot v%s loaded", scorer.version)
        except (OSError, ValueError, pickle.UnpicklingError, EOFError) as error:  # keep the last one
            log.warning("online snapshot not loaded: %s", error)
        stop.wait(scorer.refresh_s)
