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
- **per process**: item biases and factors, the click model's item and context weights, the
  item pools. Each process learns them from its own users; at every item sync
  (:class:`ItemSync`) it publishes what it changed since the last one, for the keys
  it touched (:class:`ItemChanges`), and adds the others' changes once each
  (:class:`~models.learners.delta_sync.DeltaSync`: a parameter server's semantics, as Monolith
  syncs sparse parameters periodically): biases and click weights whole, latent factors as an
  average; the global means are averaged.

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
class ItemChanges:
    """What one process changed of the item side since its previous message (or, for a total,
    since it started: what a process that starts later, or falls behind, catches up from)."""

    member: str
    seq: int
    changes: dict[str, Any]  # per table: key -> change (a RowTable for vectors)
    means: dict[str, tuple[int, float]]  # per model: (its own updates, its global mean)
    pools: dict[str, list[str]]  # items new to its pools (negatives, evaluations)
    total: bool = False


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
    """This process's side of the item sync: what it changed (the keys its models marked) goes
    out as :class:`ItemChanges`; the others' come in once each, in order."""

    TABLES = ("ranker.bias", "ranker.factors", "rating.bias", "rating.factors", "click.weights")

    def __init__(self, state, member: str):
        self.member, self.seq = member, 0
        self.tables = {name: DeltaSync() for name in self.TABLES}
        self.applied: dict[str, int] = {}  # per other process: the last message added here
        self.pool_marks: dict[str, int] = {}  # per pool: how much of it went out already
        for model in (state.ranker.learner, state.rating.learner):
            model.record_item_inits()
        state.click.learner.track_changes()

    def take(self, state) -> ItemChanges:
        """This process's changes since its last message."""
        changes = {}
        for name, model in self._models(state):
            changed, model.changed_items = model.changed_items, set()
            changes[f"{name}.bias"] = self.tables[f"{name}.bias"].take_changes(model.item_bias, changed)
            changes[f"{name}.factors"] = self.tables[f"{name}.factors"].take_changes(
                model.item_factors, changed, model.item_origin
            )
        click = state.click.learner
        changed, click.changed = click.changed, set()
        changes["click.weights"] = self.tables["click.weights"].take_changes(click.shared_weights(changed), changed)
        self.seq += 1
        pools = {name: pool[self.pool_marks.get(name, 0) :] for name, (_, pool) in self._pools(state).items()}
        return ItemChanges(self.member, self.seq, changes, self._means(state), pools)

    def total(self, state) -> ItemChanges:
        """Every change of this process since it started, as of its last message."""
        changes = {name: sync.own.copy() for name, sync in self.tables.items()}
        pools = {name: list(pool) for name, (_, pool) in self._pools(state).items()}
        return ItemChanges(self.member, self.seq, changes, self._means(state), pools, total=True)

    def add(self, state, messages: Iterable[ItemChanges], processes: int) -> None:
        """Add the others' messages (each once, in order; a total catches up). Biases and click
        weights add whole; latent factors as an average over ``processes`` -- summing two
        processes' moves, each in its own users' directions, cost 5 % of the hit rate."""
        click = state.click.learner
        weights = {}
        for message in messages:
            if message.member == self.member or message.seq <= self.applied.get(message.member, 0):
                continue
            join = "catch_up" if message.total else "apply"
            for name, model in self._models(state):
                getattr(self.tables[f"{name}.bias"], join)(
                    model.item_bias, message.changes[f"{name}.bias"], message.member
                )
                getattr(self.tables[f"{name}.factors"], join)(
                    model.item_factors,
                    message.changes[f"{name}.factors"],
                    message.member,
                    model.item_origin,
                    1 / max(processes, 1),
                )
                own, mean = model.n, model.mean
                other_n, other_mean = message.means[name]
                if own + other_n:
                    model.mean = (own * mean + other_n * other_mean) / (own + other_n)
            incoming = message.changes["click.weights"]
            fresh = click.shared_weights(incoming.keys() - weights.keys())
            weights |= {k: v for k, v in fresh.items() if k not in weights}  # keep what earlier messages added
            getattr(self.tables["click.weights"], join)(weights, incoming, message.member)
            for name, (known, pool) in self._pools(state).items():
                for item in message.pools.get(name, ()):
                    if item not in known:
                        known.add(item)
                        pool.append(item)
            self.applied[message.member] = message.seq
        click.set_shared_weights(weights)
        self.pool_marks = {name: len(pool) for name, (_, pool) in self._pools(state).items()}

    @staticmethod
    def _models(state):
        return (("ranker", state.ranker.learner), ("rating", state.rating.learner))

    @staticmethod
    def _pools(state) -> dict[str, tuple[set, list]]:
        ranker, rating = state.ranker.learner, state.rating.learner
        return {
            "ranker.evaluation": (state.ranker._known, state.ranker._items),
            "ranker": (ranker._known, ranker._items),
            "rating": (rating._known, rating._items),
        }

    @staticmethod
    def _means(state) -> dict[str, tuple[int, float]]:
        return {name: (model.n, model.mean) for name, model in ItemSync._models(state)}


def serving_ranker(state, parts: Iterable[PartitionState]) -> MatrixFactorization:
    """One ranker for serving, to be pickled at once: this process's items (synced) and users,
    plus the users of the partitions other processes own, from their latest checkpoints."""
    ranker = copy.copy(state.ranker.learner)  # shares the live item rows: pickle it before learning goes on
    ranker.user_bias, ranker.user_factors = dict(ranker.user_bias), dict(ranker.user_factors)
    for part in parts:
        ranker.import_users(part.ranker)
    return ranker
