"""Where scale-out learners leave partition states and item sides for each other: one shared
directory (the learner's snapshot directory, on the shared volume in containers).

- ``partitions/p-0003.pkl``: the state of partition 3 (:class:`~streams.learner.shards.PartitionState`),
  replaced atomically by its owner at each checkpoint and when the partition is revoked;
- ``items/<member>/NNNNNNNN.pkl``: each process's item changes, one file per sync, in order; and
  ``items/<member>/total-NNNNNNNN.pkl`` every ``TOTAL_EVERY`` syncs: all its changes so far, which
  a process that starts later (or fell behind) catches up from. Writing a total removes the
  member's changes already covered by its previous total. A process that left keeps its last
  total, so one that starts later still adds its changes.
"""

from __future__ import annotations

import pickle
import time
from pathlib import Path

from models.snapshots import atomic_write
from streams.learner.shards import ItemChanges, PartitionState


class ShardFiles:
    def __init__(self, directory: Path):
        self.partitions = Path(directory) / "partitions"
        self.items = Path(directory) / "items"
        self.partitions.mkdir(parents=True, exist_ok=True)
        self.items.mkdir(parents=True, exist_ok=True)

    def save_partition(self, part: PartitionState) -> None:
        atomic_write(self._partition(part.partition), pickle.dumps(part, protocol=pickle.HIGHEST_PROTOCOL))

    def load_partition(self, partition: int) -> PartitionState | None:
        path = self._partition(partition)
        return pickle.loads(path.read_bytes()) if path.is_file() else None

    def partition_states(self, except_: set[int] = frozenset()) -> list[PartitionState]:
        out = []
        for path in sorted(self.partitions.glob("p-*.pkl")):
            if int(path.stem[2:]) not in except_:
                out.append(pickle.loads(path.read_bytes()))
        return out

    def save_changes(self, message: ItemChanges) -> None:
        directory = self.items / message.member
        directory.mkdir(exist_ok=True)
        name = f"total-{message.seq:08d}.pkl" if message.total else f"{message.seq:08d}.pkl"
        atomic_write(directory / name, pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))
        if message.total:  # the changes the previous total covers are in this one too
            totals = sorted(directory.glob("total-*.pkl"))
            covered = int(totals[-2].stem[6:]) if len(totals) > 1 else 0
            for old in totals[:-1]:
                old.unlink(missing_ok=True)
            for path in directory.glob("[0-9]*.pkl"):
                if int(path.stem) <= covered:
                    path.unlink(missing_ok=True)

    def changes_after(self, applied: dict[str, int], except_member: str) -> list[ItemChanges]:
        """The other processes' messages after the last one ``applied`` of each: in order, from
        their latest total when the next one is gone (or for a process never heard of)."""
        out = []
        for directory in sorted(p for p in self.items.iterdir() if p.is_dir() and p.name != except_member):
            after = applied.get(directory.name, 0)
            seqs = sorted(int(p.stem) for p in directory.glob("[0-9]*.pkl"))
            newer = [q for q in seqs if q > after]
            if newer and newer[0] != after + 1 or (not newer and after == 0):
                totals = sorted(directory.glob("total-*.pkl"))
                if totals:
                    total = _load(totals[-1])
                    if total is not None and total.seq > after:
                        out.append(total)
                        newer = [q for q in newer if q > total.seq]
            for q in newer:
                message = _load(directory / f"{q:08d}.pkl")
                if message is None:
                    break  # compacted away meanwhile; the next sync catches up from the total
                out.append(message)
        return out

    def processes(self, within_s: float = 600.0) -> int:
        """Processes that published item changes within ``within_s`` (the averaging's n)."""
        now, count = time.time(), 0
        for directory in self.items.iterdir():
            if directory.is_dir() and now - directory.stat().st_mtime <= within_s:
                count += 1
        return count

    def _partition(self, partition: int) -> Path:
        return self.partitions / f"p-{partition:04d}.pkl"


def _load(path: Path):
    try:
        return pickle.loads(path.read_bytes())
    except (OSError, EOFError, pickle.UnpicklingError):
        return None  # removed meanwhile
