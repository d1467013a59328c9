"""The demo's closing experiment replayed offline (`streamrec bench experiment-replay`): does a
retrain after the taste shift give the experiment's users better lists, and what limits both?

Per seed, the demo's own stream (:func:`streams.demo.loop.load_stream`): a model trained on the
events before the shift (the demo's v1) and one retrained on all of them (its v3), each the
model the trainer's gate would register (the best on its holdout). The demo's simulated users
(:func:`streams.demo.experiment.generator_users`) then ask for ``k``-item lists, in the
experiment's order; each list is ranked with the online features as they are at that moment,
the user clicks by the generator's rule, and the click goes into their history, features and
seen-set, as it does live. Every model answers the same users in the same order, so the figures
are paired, free of the live run's noise and of its two cores' timing (two trainings and a
few thousand requests: 2-3 minutes per seed).

Reported: each one's expected conversion (the users' own click chance for the lists served,
:meth:`~streams.demo.experiment.SimulatedUsers.click_chance`), overall and by quarter of the
requests, and that of a reference rule any model with these features could learn: the unseen
items of the user's most frequent categories among their 20 newest events (:func:`category_rule`).
"""

from __future__ import annotations

import random
import statistics
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

from models.batch.data import frame_from_events
from models.batch.online_features import Snapshot
from models.batch.pipeline import TrainConfig, train_and_evaluate
from models.promotion import ChoiceCheck
from streams.core.contracts import Interaction
from streams.demo.experiment import generator_users
from streams.demo.loop import load_stream
from streams.demo.results import DemoConfig
from streams.features.item import ItemState, item_features
from streams.features.point_in_time import PointInTime
from streams.features.user import UserState, user_features

RECENT = 20


class OfflineStore:
    """The online store as the worker would hold it after ``events``: user and item states, each
    item's users, each user's seen-set; :meth:`click` adds an event as the live stream would."""

    def __init__(self, events: list[Interaction], categories: dict[str, str]):
        self.categories = categories
        self.users: dict[str, UserState] = {}
        self.items: dict[str, ItemState] = {}
        self.item_users: dict[str, set[str]] = {}
        self.seen: dict[str, set[str]] = {}
        self._offset = 0
        for event in events:
            self.apply(event)
        self.now = max(s.reference_ts or 0.0 for s in self.users.values()) + 1.0

    def apply(self, event: Interaction) -> None:
        self._offset += 1
        user, item = event.user_id, event.item_id
        self.users.setdefault(user, UserState()).apply(event, 0, self._offset, self.categories.get(item))
        self.items.setdefault(item, ItemState()).apply(event, 0, self._offset)
        self.item_users.setdefault(item, set()).add(user)
        self.seen.setdefault(user, set()).add(item)

    def click(self, user: str, item: str) -> None:
        self.apply(
            Interaction(user_id=user, item_id=item, event_type="click", timestamp=datetime.fromtimestamp(self.now, UTC))
        )

    def snapshot(self, user: str) -> tuple[dict, Callable[[list[str]], Snapshot]]:
        """The user's feature row and the lookup a model reads candidates' features with."""
        row = user_features(self.users[user])

        def lookup(items):
            return Snapshot(
                at=self.now,
                user=row,
                items={i: item_features(self.items[i], len(self.item_users[i])) for i in items if i in self.items},
                categories={i: self.categories[i] for i in items if i in self.categories},
            )

        return row, lookup


def model_lists(model, store: OfflineStore, k: int) -> Callable[[str], list[str]]:
    def answer(user: str) -> list[str]:
        row, lookup = store.snapshot(user)
        ranked = model.recommend(row["recent_items"], k, exclude=sorted(store.seen[user]), features=lookup)
        return [item for item, _ in ranked]

    return answer


def category_rule(store: OfflineStore, k: int) -> Callable[[str], list[str]]:
    """Unseen items of the user's most frequent categories among their newest events.

    >>> store = OfflineStore([Interaction(user_id="u", item_id=i, event_type="click", timestamp=n)
    ...                       for n, i in enumerate(["a", "b", "c"])], {"a": "x", "b": "x", "c": "y", "d": "y", "e": "x"})
    >>> category_rule(store, 2)("u")
    ['e', 'd']
    """
    everything = sorted(store.categories)

    def answer(user: str) -> list[str]:
        counts = Counter(store.categories.get(i) for i in store.users[user].recent_items[-RECENT:])
        unseen = (i for i in everything if i not in store.seen[user])
        return sorted(unseen, key=lambda i: -counts.get(store.categories[i], 0))[:k]

    return answer


def replay(
    config: DemoConfig, requests: int, k: int = 5, train: TrainConfig | None = None, progress=print
) -> dict[str, dict]:
    """Name -> {serves, conversion: expected conversion per request}, for v1, v3 and the rule."""
    messages, split, facts = load_stream(config)
    users = generator_users(facts, messages[split:])
    categories = {i: f"c{c}" for i, c in facts.item_category.items()}
    events = [m for m in messages if isinstance(m, Interaction)]
    before = sum(isinstance(m, Interaction) for m in messages[:split])
    models = {}
    for name, part in (("v1 (before the shift)", events[:before]), ("v3 (retrained after it)", events)):
        frame = frame_from_events(part)
        result = train_and_evaluate(frame, train or TrainConfig(), lambda _: None, PointInTime(frame, categories))
        models[name] = result.model_for(result.best)
        progress(f"seed {config.seed}: {name} trained on {len(part):,} events, serves {models[name].serves}")
    first, retrained = models
    # what the promotion gate's choice check sees: both on the retrain's holdout visits
    choice = ChoiceCheck.of(**result.choice({"challenger": models[retrained], "champion": models[first]}))
    out = {}
    for name in [*models, "category rule"]:
        store = OfflineStore(events, categories)
        answer = category_rule(store, k) if name == "category rule" else model_lists(models[name], store, k)
        rng, chances = random.Random(config.seed), []
        for _ in range(requests):
            user = rng.choice(users.users)
            items = answer(user)
            chances.append(users.click_chance(user, items))
            clicked = users.click(user, items, rng)
            if clicked is not None:
                store.click(user, clicked)
        out[name] = {"serves": models[name].serves if name in models else "-", "conversion": chances}
    out[retrained]["choice"] = choice
    return out


def quarters(values: list[float]) -> list[float]:
    """Means of the four quarters of ``values``.

    >>> quarters([1, 1, 0, 0, 1, 1, 0, 0])
    [1, 0, 1, 0]
    """
    size = len(values) // 4
    return [statistics.mean(values[n * size : (n + 1) * size]) for n in range(4)]


def run(seeds: list[int], requests: int = 2_000, progress=print) -> str:
    rows, choices = [], []
    for seed in seeds:
        found_all = replay(DemoConfig(seed=seed), requests, progress=progress)
        for name, found in found_all.items():
            by_quarter = " / ".join(f"{q:.3f}" for q in quarters(found["conversion"]))
            mean = statistics.mean(found["conversion"])
            rows.append(f"| {seed} | {name} | {found['serves']} | **{mean:.3f}** | {by_quarter} |")
            if found.get("choice") is not None:
                c = found["choice"]
                choices.append(
                    f"| {seed} | {c.champion:.4f} | {c.challenger:.4f} | {c.challenger - c.champion:+.4f} "
                    f"[{c.low:+.4f}, {c.high:+.4f}] | {c.visits} |"
                )
    return "\n".join(
        [
            "## The demo's experiment replayed offline (`streamrec bench experiment-replay`)",
            "",
            f"Command: `streamrec bench experiment-replay --seeds {','.join(map(str, seeds))} --requests {requests}`. "
            "Per seed, the demo's stream (36,000 events, 300 users, 300 items, 10 categories, the tastes shifting "
            "halfway); v1 trained on the events before the shift, v3 on all of them, each serving what the "
            "gate would register. The experiment's users then ask for 5-item lists in the experiment's order, "
            "click by the generator's rule, and their clicks update their features and seen-sets. Expected "
            "conversion: the users' own click chance for each list (`bench/experiment_replay.py`).",
            "",
            "| seed | model | serves | expected conversion | by quarter of the requests |",
            "|---|---|---|---|---|",
            *rows,
            "",
            "What the promotion gate's choice check sees (`models/promotion.py::ChoiceCheck`): v1 and v3 ordering "
            "the shown items of v3's holdout visits, scored by NDCG against what the users chose, with the paired "
            "95% interval of the difference:",
            "",
            "| seed | v1 | v3 | v3 − v1 [interval] | visits |",
            "|---|---|---|---|---|",
            *choices,
        ]
    )
