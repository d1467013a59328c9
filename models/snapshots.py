"""Learner checkpoints and the rollback guard.

Snapshots are pickles written atomically as ``snapshot-<version>.pkl`` with a JSON sidecar
(events seen, metrics, time); the newest ``keep`` are kept. The full state is the learner's own
(it resumes from it); what other processes load is the :class:`OnlineModel` written next to it
(``online-<version>.pkl``): an explicit, versioned type of this package holding the ranker alone. :class:`RollbackGuard` compares
the live metric since the last snapshot with the metric the snapshot was taken at, and asks
for a rollback when it degraded past a threshold.
"""

from __future__ import annotations

import json
import os
import pickle
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from models.learners.base import Learner


@dataclass(frozen=True)
class Snapshot:
    version: int
    path: Path
    events_seen: int
    metrics: dict[str, float]
    created_at: float


ONLINE_MODEL_FORMAT = 1


@dataclass(frozen=True)
class OnlineModel:
    """What serving loads of a learner snapshot: the online ranker, versioned.

    >>> from models.learners.matrix_factorization import MatrixFactorization
    >>> model = OnlineModel(MatrixFactorization(), version=3, events_seen=10)
    >>> model.format == ONLINE_MODEL_FORMAT, model.predict_one("u", "i") == model.learner.predict_one("u", "i")
    (True, True)
    """

    learner: Learner
    version: int
    events_seen: int
    format: int = ONLINE_MODEL_FORMAT

    def predict_one(self, user_id: str, item_id: str) -> float:
        return self.learner.predict_one(user_id, item_id)


class SnapshotStore:
    def __init__(self, directory: Path, keep: int = 10):
        self.directory, self.keep = Path(directory), keep
        self.directory.mkdir(parents=True, exist_ok=True)

    def save(self, learner, events_seen: int, metrics: dict[str, float], online: Learner | None = None) -> Snapshot:
        """``learner``: the full state to resume from; ``online``: the ranker other processes load."""
        version = self._claim_version()
        path = self.directory / f"snapshot-{version:06d}.pkl"
        if learner is not None:  # scale-out learners publish the online model alone
            atomic_write(path, pickle.dumps(learner, protocol=pickle.HIGHEST_PROTOCOL))
        if online is not None:  # written before the sidecar, which makes the snapshot visible
            atomic_write(
                self._online_path(version),
                pickle.dumps(OnlineModel(online, version, events_seen), protocol=pickle.HIGHEST_PROTOCOL),
            )
        snapshot = Snapshot(version, path, events_seen, dict(metrics), time.time())
        meta = {k: v for k, v in asdict(snapshot).items() if k != "path"}
        atomic_write(path.with_suffix(".json"), json.dumps(meta).encode())
        for old in self.list()[: -self.keep]:
            old.path.unlink(missing_ok=True)
            self._online_path(old.version).unlink(missing_ok=True)
            old.path.with_suffix(".json").unlink(missing_ok=True)
            self._claim_path(old.version).unlink(missing_ok=True)
        return snapshot

    def _claim_version(self) -> int:
        """The next version, claimed with an exclusive create: processes sharing the directory
        (scale-out learners) never write the same one."""
        claimed = [int(p.stem.split("-")[1]) for p in self.directory.glob("version-*.claim")]
        existing = self.list()
        version = max([*claimed, existing[-1].version if existing else 0]) + 1
        while True:
            try:
                os.close(os.open(self._claim_path(version), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
                return version
            except FileExistsError:
                version += 1

    def _claim_path(self, version: int) -> Path:
        return self.directory / f"version-{version:06d}.claim"

    def list(self) -> list[Snapshot]:
        out = []
        for meta in sorted(self.directory.glob("snapshot-*.json")):
            data = json.loads(meta.read_text())
            out.append(
                Snapshot(
                    data["version"], meta.with_suffix(".pkl"), data["events_seen"], data["metrics"], data["created_at"]
                )
            )
        return out

    def load(self, snapshot: Snapshot):
        return pickle.loads(snapshot.path.read_bytes())

    def load_online(self, snapshot: Snapshot) -> OnlineModel | None:
        """The snapshot's online model; None when it has none (written before it existed)."""
        path = self._online_path(snapshot.version)
        if not path.is_file():
            return None
        model = pickle.loads(path.read_bytes())
        if getattr(model, "format", None) != ONLINE_MODEL_FORMAT:
            raise ValueError(
                f"{path}: online model format {getattr(model, 'format', None)}, "
                f"this version reads {ONLINE_MODEL_FORMAT}"
            )
        return model

    def _online_path(self, version: int) -> Path:
        return self.directory / f"online-{version:06d}.pkl"

    def latest(self) -> Snapshot | None:
        snapshots = self.list()
        return snapshots[-1] if snapshots else None

    def before(self, version: int) -> Snapshot | None:
        older = [s for s in self.list() if s.version < version]
        return older[-1] if older else None


@dataclass
class SnapshotSchedule:
    """A snapshot is due every ``every_events`` events or ``every_seconds``, whichever comes first."""

    every_events: int = 10_000
    every_seconds: float = 300.0
    _last_events: int = 0
    _last_time: float = field(default_factory=time.monotonic)

    def due(self, events_seen: int, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        if events_seen - self._last_events >= self.every_events or now - self._last_time >= self.every_seconds:
            self._last_events, self._last_time = events_seen, now
            return True
        return False


@dataclass(frozen=True)
class RollbackGuard:
    """Roll back when ``metric`` (higher is better) fell by more than ``max_drop`` since the
    snapshot, judged on at least ``min_evaluations`` evaluations.

    >>> RollbackGuard(max_drop=0.1).check(at_snapshot=0.6, now=0.45, evaluations=500)
    (True, 'hit_rate dropped from 0.6 to 0.45 (> 0.1) over 500 evaluations since the snapshot')
    >>> RollbackGuard(max_drop=0.1).check(at_snapshot=0.6, now=0.55, evaluations=500)[0]
    False
    """

    metric: str = "hit_rate"
    max_drop: float = 0.1
    min_evaluations: int = 200

    def check(self, at_snapshot: float, now: float, evaluations: int) -> tuple[bool, str]:
        if evaluations < self.min_evaluations:
            return False, f"only {evaluations} evaluations since the snapshot"
        if at_snapshot - now > self.max_drop:
            return True, (
                f"{self.metric} dropped from {at_snapshot:.4g} to {now:.4g} (> {self.max_drop:.4g}) "
                f"over {evaluations} evaluations since the snapshot"
            )
        return False, f"{self.metric} {now:.4g} vs {at_snapshot:.4g} at the snapshot"


def atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + f".tmp{os.getpid()}-{threading.get_ident()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)
