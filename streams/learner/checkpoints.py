"""Where scale-out learners leave partition states and item sides for each other: one shared
directory (the learner's snapshot directory, on the shared volume in containers).

- ``partitions/p-0003.pkl``: the state of partition 3 (:class:`~streams.learner.shards.PartitionState`),
  replaced atomically by its owner at each checkpoint and when the partition is revoked;
- ``items/<member>.pkl``: each process's item side (the sum of its own changes), replaced at each
  of its checkpoints. A process that left keeps its file: a process that starts later adds its
  changes too. (One file per process that ever ran; they are not compacted yet.)
"""

from __future__ import annotations

import pickle
from pathlib import Path

from models.snapshots import atomic_write
from streams.learner.shards import ItemSide, PartitionState


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

    def save_items(self, side: ItemSide) -> None:
        atomic_write(self.items / f"{side.member}.pkl", pickle.dumps(side, protocol=pickle.HIGHEST_PROTOCOL))

    def item_sides(self, except_member: str) -> list[ItemSide]:
        """Every other process's side."""
        out = []
        for path in sorted(self.items.glob("*.pkl")):
            if path.stem != except_member:
                try:
                    out.append(pickle.loads(path.read_bytes()))
                except (OSError, EOFError, pickle.UnpicklingError):
                    continue  # removed meanwhile; the next checkpoint reads it again
        return out

    def _partition(self, partition: int) -> Path:
        return self.partitions / f"p-{partition:04d}.pkl"
