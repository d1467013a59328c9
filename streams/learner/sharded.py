"""The learning loop of one scale-out learner: the partitions it owns, their hand-over, item
sync at checkpoints, and drift decided once for the group (see :mod:`streams.learner.shards`).

- **Hand-over**: :meth:`ShardedLearningLoop.assign` takes a partition at the state its last
  owner wrote and says where to read from; :meth:`~ShardedLearningLoop.revoke` writes it and
  forgets its users. A consumer-group rebalance calls them (revoke before the next owner's assign),
  so no event is learned twice and none is skipped.
- **Drift, once for the group**: every process watches its own users. The first to detect drift,
  or to decide on a retrain, claims it (``claim``, a Redis key with the cooldown as its time to
  live) and publishes the DriftEvent and the RetrainRequest; the others stand down for the
  cooldown, and re-freeze their drift reference, as the claimant did. :meth:`adopt` does the same
  for a process whose own detectors did not fire.
- **Item sync**: every ``item_sync_every_events`` of its events and at each checkpoint, this
  process publishes its own changes to the item side and adds the others'
  (:class:`~streams.learner.shards.ItemSync`).
- **Serving**: each checkpoint publishes one online ranker for all users (this process's items,
  every partition's users) in the shared snapshot directory, so the API loads one model as before.
- **No rollback guard**: rolling back one process's users alone is not defined yet.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path

from streams.core.contracts import Message, ModelUpdate
from streams.learner.checkpoints import ShardFiles
from streams.learner.loop import LearnerConfig, LearningLoop
from streams.learner.shards import (
    ItemSync,
    drop_partition,
    export_partition,
    import_partition,
    serving_ranker,
)

TOTAL_EVERY = 20  # syncs between two totals of a process's item changes


class ShardedLearningLoop(LearningLoop):
    tracks_partitions = True

    def __init__(
        self,
        config: LearnerConfig,
        snapshots: Path,
        member: str,
        claim: Callable[[str], bool] = lambda trigger: True,
        clock=time.time,
    ):
        self.member, self._claim = member, claim
        self.files = ShardFiles(snapshots)
        self.owned: set[int] = set()
        super().__init__(config, snapshots, clock)
        self.items = ItemSync(self.state, member)
        self.sync_items()  # start from the group's items

    def _resume_from(self):
        return None  # the state comes partition by partition (assign) and from the others' items

    def claim(self, trigger: str) -> bool:
        return self._claim(trigger)

    def adopt(self, claimed_by: str, claimed_at: float) -> None:
        """Another process claimed a retrain at ``claimed_at``: follow it if this one has not yet."""
        last = self.history.last_request_at
        if claimed_by != self.member and (last is None or claimed_at > last):
            self.adopt_request()

    def assign(self, partitions: Iterable[int]) -> dict[int, int | None]:
        """Take the partitions over; where to read each from (None: from the beginning)."""
        starts = {}
        for p in partitions:
            part = self.files.load_partition(p)
            if part is not None and part.offset != self.state.offsets.get(p, -1):
                import_partition(self.state, part)
            self.owned.add(p)
            learned = self.state.offsets.get(p)
            starts[p] = None if learned is None else learned + 1
        return starts

    def revoke(self, partitions: Iterable[int], save: bool = True) -> None:
        """Hand the partitions over (``save`` False: they were lost, another owner has them already)."""
        for p in partitions:
            if p in self.owned:
                if save:
                    self.files.save_partition(export_partition(self.state, p))
                drop_partition(self.state, p)
                self.owned.discard(p)

    def process(self, partition: int, offset: int, event, live: bool = True) -> list[Message]:
        if partition not in self.owned:
            return []  # fetched before a revoke; its next owner learns it
        events = self.state.events
        out = super().process(partition, offset, event, live)
        if self.state.events != events and self.state.events % self.config.item_sync_every_events == 0:
            self.sync_items()
        return out

    def sync_items(self) -> None:
        """Publish this process's item changes (and, every ``TOTAL_EVERY``, all of them), then add the others'."""
        message = self.items.take(self.state)
        self.files.save_changes(message)
        if message.seq % TOTAL_EVERY == 0:
            self.files.save_changes(self.items.total(self.state))
        self.items.add(
            self.state, self.files.changes_after(self.items.applied, self.member), max(self.files.processes(), 1)
        )

    def _degraded(self) -> str | None:
        return None

    def checkpoint(self) -> list[Message]:
        """Write the owned partitions, sync the item side with the others', and publish one
        ranker for serving."""
        for p in sorted(self.owned):
            self.files.save_partition(export_partition(self.state, p))
        self.sync_items()
        online = serving_ranker(self.state, self.files.partition_states(except_=self.owned))
        snapshot = self.store.save(None, self.state.events, self.metrics(), online=online)
        self.snapshot_version = snapshot.version
        return [
            ModelUpdate(
                model_name=self.config.model_name,
                version=str(snapshot.version),
                alias="online",
                uri=snapshot.path.with_name(f"online-{snapshot.version:06d}.pkl").as_uri(),
                metrics=self.metrics() | {"partitions_owned": float(len(self.owned))},
            )
        ]
