"""A synthetic stream of users that behave like real ones, seeded and reproducible.

- every user has latent tastes over item categories (a Dirichlet draw, concentrated);
- item popularity is power-law (Pareto weights), user activity is heavy-tailed (log-normal);
- users come in sessions with a theme category, and a funnel of event types
  (view -> click -> add_to_cart -> purchase, plus like, dislike and explicit ratings);
- new users and new items appear over time (each new item is announced as an :class:`Item`);
- optionally, at ``shift_at`` (a fraction of the stream), every user's tastes move to other
  categories: the preference shift that drift detection is tested against.

>>> cfg = SimulationConfig(n_events=200, n_users=20, n_items=50, seed=7)
>>> a = [m for m in simulate(cfg)]
>>> b = [m for m in simulate(cfg)]
>>> a == b, sum(isinstance(m, Interaction) for m in a)
(True, 200)
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

from streams.core.contracts import EventType, Interaction, Item


@dataclass(frozen=True)
class SimulationConfig:
    """Knobs of the simulator; the defaults give a stream with clear structure in 100k events."""

    n_events: int = 100_000
    n_users: int = 2_000
    n_items: int = 1_000
    n_categories: int = 20
    taste_concentration: float = 0.3  # Dirichlet alpha: lower = more focused tastes
    popularity_tail: float = 1.2  # Pareto shape of item popularity: lower = heavier head
    new_user_share: float = 0.02  # share of sessions started by a brand-new user
    new_item_share: float = 0.01  # chance that a session comes after a new item's release
    session_mean_items: float = 6.0
    session_gap_s: float = 20.0  # mean time between session starts (100k events ~ 3 days)
    event_gap_s: float = 30.0  # mean time between events in a session
    shift_at: float | None = None  # fraction of n_events at which tastes shift
    start: datetime = datetime(2026, 1, 1, tzinfo=UTC)
    seed: int = 42


@dataclass
class SimulationFacts:
    """What actually happened, for tests and demos (filled while the stream is consumed)."""

    shift_time: datetime | None = None
    shift_event_index: int | None = None
    users: int = 0
    items: int = 0
    # the users' tastes (user id -> weight per category) and each item's category, as they are at
    # the end of the stream: what simulated users act on (see :func:`affinity`)
    tastes: dict[str, list[float]] = field(default_factory=dict)
    item_category: dict[str, int] = field(default_factory=dict)
    events_by_type: dict[str, int] = field(default_factory=dict)


class _World:
    """Mutable state of the simulation: users, items and their weights."""

    def __init__(self, cfg: SimulationConfig, rng: np.random.Generator):
        self.cfg, self.rng = cfg, rng
        self.tastes = rng.dirichlet([cfg.taste_concentration] * cfg.n_categories, size=cfg.n_users)
        self.activity = rng.lognormal(0.0, 1.0, size=cfg.n_users)
        self.item_category: list[int] = []
        self.item_weight: list[float] = []
        self.by_category: list[list[int]] = [[] for _ in range(cfg.n_categories)]
        for _ in range(cfg.n_items):
            self.add_item()

    def add_item(self) -> int:
        item = len(self.item_category)
        category = int(self.rng.integers(self.cfg.n_categories))
        self.item_category.append(category)
        self.item_weight.append(float(self.rng.pareto(self.cfg.popularity_tail) + 1.0))
        self.by_category[category].append(item)
        return item

    def add_user(self) -> int:
        taste = self.rng.dirichlet([self.cfg.taste_concentration] * self.cfg.n_categories)
        self.tastes = np.vstack([self.tastes, taste])
        self.activity = np.append(self.activity, self.rng.lognormal(0.0, 1.0))
        return len(self.activity) - 1

    def pick_user(self) -> int:
        return int(self.rng.choice(len(self.activity), p=self.activity / self.activity.sum()))

    def pick_item(self, category: int) -> int:
        members = self.by_category[category]
        if not members:
            return int(self.rng.integers(len(self.item_category)))
        weights = np.fromiter((self.item_weight[i] for i in members), float, len(members))
        return members[int(self.rng.choice(len(members), p=weights / weights.sum()))]

    def shift_tastes(self) -> None:
        """Every user's tastes move to other categories (a cyclic shift by half the categories)."""
        self.tastes = np.roll(self.tastes, self.cfg.n_categories // 2, axis=1)


def simulate(cfg: SimulationConfig, facts: SimulationFacts | None = None) -> Iterator[Interaction | Item]:
    """Yield the initial catalogue, then interactions (and new items) in event-time order."""
    facts = facts if facts is not None else SimulationFacts()
    rng = np.random.default_rng(cfg.seed)
    world = _World(cfg, rng)
    for item in range(cfg.n_items):
        yield _item(world, item, cfg.start)
    pending: list[tuple[float, int, Interaction]] = []  # heap of generated, not yet emitted events
    seq = itertools.count()
    clock, generated, emitted, session_no = 0.0, 0, 0, 0
    shift_index = None if cfg.shift_at is None else int(cfg.shift_at * cfg.n_events)
    while emitted < cfg.n_events:
        clock += rng.exponential(cfg.session_gap_s)
        while pending and pending[0][0] <= clock and emitted < cfg.n_events:
            _, _, event = heapq.heappop(pending)
            facts.events_by_type[event.event_type.value] = facts.events_by_type.get(event.event_type.value, 0) + 1
            emitted += 1
            yield event
        if shift_index is not None and facts.shift_time is None and generated >= shift_index:
            world.shift_tastes()
            facts.shift_time, facts.shift_event_index = cfg.start + timedelta(seconds=clock), generated
        if rng.random() < cfg.new_item_share:
            yield _item(world, world.add_item(), cfg.start + timedelta(seconds=clock))
        user = world.add_user() if rng.random() < cfg.new_user_share else world.pick_user()
        session_no += 1
        for t, event in _session(world, user, f"s{cfg.seed}-{session_no}", clock, seq, cfg):
            heapq.heappush(pending, (t, next(seq), event))
            generated += 1
    facts.users, facts.items = len(world.activity), len(world.item_category)
    facts.tastes = {f"u{u}": [float(w) for w in world.tastes[u]] for u in range(len(world.activity))}
    facts.item_category = {f"i{i}": c for i, c in enumerate(world.item_category)}


def affinity(taste: list[float], category: int) -> float:
    """How much a user likes an item of ``category``, 0..1: the generator's own rule.

    >>> affinity([0.5, 0.1, 0.4], 1), affinity([0.5, 0.1, 0.4], 0)
    (0.30000000000000004, 1.0)
    """
    return min(1.0, taste[category] * 3.0)


def click_probability(taste: list[float], category: int) -> float:
    """The generator's chance that a user who looks at an item clicks it (see ``_funnel``)."""
    return 0.1 + 0.6 * affinity(taste, category)


def _session(world: _World, user: int, session_id: str, clock: float, seq, cfg: SimulationConfig):
    """One visit: a theme category, a few items, each walked down the event-type funnel."""
    rng, taste = world.rng, world.tastes[user]
    theme = int(rng.choice(cfg.n_categories, p=taste))
    t = clock
    for _ in range(1 + rng.poisson(cfg.session_mean_items - 1)):
        category = theme if rng.random() < 0.7 else int(rng.choice(cfg.n_categories, p=taste))
        item = world.pick_item(category)
        liking = affinity(list(taste), world.item_category[item])
        for event_type, value in _funnel(rng, liking):
            t += rng.exponential(cfg.event_gap_s)
            yield (
                t,
                Interaction(
                    event_id=f"syn{cfg.seed}-{next(seq):010d}",
                    user_id=f"u{user}",
                    item_id=f"i{item}",
                    event_type=event_type,
                    value=value,
                    timestamp=cfg.start + timedelta(seconds=t),
                    session_id=session_id,
                ),
            )


def _funnel(rng: np.random.Generator, affinity: float) -> list[tuple[EventType, float | None]]:
    events: list[tuple[EventType, float | None]] = [(EventType.VIEW, None)]
    if rng.random() < 0.1 + 0.6 * affinity:
        events.append((EventType.CLICK, None))
        if rng.random() < 0.05 + 0.3 * affinity:
            events.append((EventType.ADD_TO_CART, None))
            if rng.random() < 0.5:
                events.append((EventType.PURCHASE, None))
        if rng.random() < 0.1 * affinity:
            events.append((EventType.LIKE, None))
    elif rng.random() < 0.05 * (1 - affinity):
        events.append((EventType.DISLIKE, None))
    if rng.random() < 0.05:
        stars = float(np.clip(np.round(1 + 4 * affinity + rng.normal(0, 0.7)), 1, 5))
        events.append((EventType.RATING, stars))
    return events


def _item(world: _World, item: int, at: datetime) -> Item:
    return Item(
        item_id=f"i{item}",
        title=f"Item {item}",
        categories=[f"c{world.item_category[item]}"],
        attributes={"popularity_weight": round(world.item_weight[item], 4)},
        timestamp=at,
    )
