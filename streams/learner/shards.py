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
  checkpoint it publishes its side and averages in the others', each weighted by its updates
  (federated averaging, the way parameter servers sync sparse parameters periodically).

Pure functions over a :class:`~streams.learner.loop.LearnerState`; files are in
:mod:`streams.learner.checkpoints`.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from models.learners.contextual import WeightTable
from models.learners.matrix_factorization import ItemTable, MatrixFactorization
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
    ranker: ItemTable
    rating: ItemTable
    click: WeightTable
    pool: list[str]  # the items ranking evaluations sample from


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


def item_side(state, member: str) -> ItemSide:
    return ItemSide(
        member,
        state.ranker.learner.item_table(),
        state.rating.learner.item_table(),
        state.click.learner.item_table(),
        list(state.ranker._items),
    )


def merge_item_sides(state, others: Iterable[ItemSide]) -> None:
    """Average the other processes' item sides into this one's (see the module's doc)."""
    others = list(others)
    if not others:
        return
    state.ranker.learner.merge_items([o.ranker for o in others])
    state.rating.learner.merge_items([o.rating for o in others])
    state.click.learner.merge_items([o.click for o in others])
    for other in others:
        for item in other.pool:
            if item not in state.ranker._known:
                state.ranker._known.add(item)
                state.ranker._items.append(item)


def serving_ranker(state, parts: Iterable[PartitionState]) -> MatrixFactorization:
    """One ranker for serving: this process's items (merged) and users, plus the users of the
    partitions other processes own, from their latest checkpoints."""
    ranker = copy.deepcopy(state.ranker.learner)
    for part in parts:
        ranker.import_users(part.ranker)
    return ranker
