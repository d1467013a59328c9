"""Scale-out learning: what travels with a partition, and what is shared between processes.

Several learners in one consumer group split ``interactions``' partitions. Events are keyed by
user, so a user's events all reach the process that owns the user's partition, and that process
alone learns the user's side of every model. The state splits in two:

- **per partition** (:class:`PartitionState`): the last offset learned and, for each of the
  partition's users, their rows in the implicit ranker, its frozen drift reference, the rating
  model and the click model, plus their window of recent event ids. It is written when the
  partition is revoked and at every checkpoint, and read by whichever process is assigned the
  partition next, which resumes right after that offset: an event is learned once across a
  rebalance, and after a crash the events since the last checkpoint are learned again on top of
  the state they were missing from.
- **per process** (:class:`ItemSide`): item biases and factors, the click model's item and
  context weights, the item pools. Each process learns them from its own users; at every
  item sync (:class:`ItemSync`, at every checkpoint and every 5,000 of its events) it publishes the sum of its own
  changes and adds the others' new changes once (:class:`~models.learners.delta_sync.DeltaSync`:
  a parameter server's semantics, as Monolith syncs sparse parameters periodically): biases and
  click weights whole, latent factors as an average; the global means are averaged.

Pure functions over a :class:`~streams.learner.loop.LearnerState`; files are in
:mod:`streams.learner.checkpoints`.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from models.learners.delta_sync import DeltaSync
from models.learners.matrix_factorization import MatrixFactorization
from streams.core.dedupe import RecentIds


@dataclass
class PartitionState:
    partition: int
    offset: int  # the last offset learned
    ranker: dict[str, Any] = field(default_factory=dict)
    reference: dict[str, Any] | None = None  # the frozen drift reference's rows (None: it had none)
    rating: dict[str, Any] = field(default_factory=dict)
    click: dict[str, float] = field(default_factory=dict)
    recent_ids: dict[str, bytes] = field(default_factory=dict)

    @property
    def users(self) -> set[str]:
        return set(self.recent_ids) | set(self.ranker) | set(self.rating)


@dataclass
class ItemSide:
    member: str
    sums: dict[str, dict[str, Any]]  # per table: this process's own changes, summed
    means: dict[str, tuple[int, float]]  # per model: (its own updates, its global mean)
    pools: dict[str, list[str]]  # the items each model samples from (negatives, evaluations)


def users_of(state, partition: int) -> list[str]:
    return [u for u, p in state.user_partition.items() if p == partition]


def export_partition(state, partition: int) -> PartitionState:
    users = users_of(state, partition)
    shadow = state.ranker.shadow
    return PartitionState(
        partition=partition,
        offset=state.offsets.get(partition, -1),
        ranker=state.ranker.learner.export_users(users),
        reference=shadow.export_users(users) if shadow is not None else None,
        rating=state.rating.learner.export_users(users),
        click=state.click.learner.export_users(users),
        recent_ids={u: state.recent_ids[u]._packed for u in users if u in state.recent_ids},
    )


def import_partition(state, part: PartitionState) -> None:
    """Take over a partition at the state another process left it in."""
    drop_partition(state, part.partition)
    state.ranker.learner.import_users(part.ranker)
    if part.reference is not None and state.ranker.shadow is not None:
        state.ranker.shadow.import_users(part.reference)
    state.rating.learner.import_users(part.rating)
    state.click.learner.import_users(part.click)
    for user, packed in part.recent_ids.items():
        state.recent_ids[user] = RecentIds(packed)
    for user in part.users:
        state.user_partition[user] = part.partition
    state.offsets[part.partition] = part.offset


def drop_partition(state, partition: int) -> None:
    """Forget a partition's users (another process owns them now)."""
    users = users_of(state, partition)
    for model in (state.ranker.learner, state.ranker.shadow, state.rating.learner, state.click.learner):
        if model is not None:
            model.drop_users(users)
    for user in users:
        state.recent_ids.pop(user, None)
        del state.user_partition[user]
    state.offsets.pop(partition, None)


class ItemSync:
    """This process's side of the item sync: one :class:`DeltaSync` per shared table."""

    def __init__(self):
        self.tables: dict[str, DeltaSync] = {}

    def sync(self, state, member: str, others: Iterable[ItemSide]) -> ItemSide:
        """Add the others' new changes into ``state``; this process's side to publish."""
        others = list(others)
        ranker, rating, click = state.ranker.learner, state.rating.learner, state.click.learner
        sums = {}
        for name, model in (("ranker", ranker), ("rating", rating)):
            sums[f"{name}.bias"] = self._sync(f"{name}.bias", model.item_bias, others)
            # latent factors: averaged, not summed -- summing two processes' moves in their own
            # users' directions cost 5 % of the hit rate on the generator's stream (1/n: 2 %)
            sums[f"{name}.factors"] = self._sync(
                f"{name}.factors", model.item_factors, others, model.item_origin, share=1 / (1 + len(others))
            )
            n = sum(o.means[name][0] for o in others) + model.n
            if n:
                model.mean = (sum(k * m for k, m in (o.means[name] for o in others)) + model.n * model.mean) / n
        weights = click.shared_weights()
        sums["click.weights"] = self._sync("click.weights", weights, others)
        click.set_shared_weights(weights)
        pools = {"ranker.evaluation": state.ranker._items, "ranker": ranker._items, "rating": rating._items}
        for name, pool in pools.items():
            owner = state.ranker if name == "ranker.evaluation" else (ranker if name == "ranker" else rating)
            for other in others:
                for item in other.pools.get(name, ()):
                    if item not in owner._known:
                        owner._known.add(item)
                        pool.append(item)
        return ItemSide(
            member,
            sums,
            {"ranker": (ranker.n, ranker.mean), "rating": (rating.n, rating.mean)},
            {name: list(pool) for name, pool in pools.items()},
        )

    def _sync(self, table: str, values, others: list[ItemSide], origin=lambda key: 0.0, share: float = 1.0) -> dict:
        sync = self.tables.setdefault(table, DeltaSync())
        return sync.sync(values, {o.member: o.sums[table] for o in others}, origin, share)


def serving_ranker(state, parts: Iterable[PartitionState]) -> MatrixFactorization:
    """One ranker for serving: this process's items (merged) and users, plus the users of the
    partitions other processes own, from their latest checkpoints."""
    ranker = copy.deepcopy(state.ranker.learner)
    for part in parts:
        ranker.import_users(part.ranker)
    return ranker
