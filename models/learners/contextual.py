"""A contextual click model: logistic regression over user, item and context features."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from river import linear_model, optim

from models.learners.base import Features, Learner

USER = "user="


def encode_features(user: str, item: str, x: Features | None) -> dict[str, float]:
    """One-hot ids and categorical context, numbers as they are; crosses of context with the item.

    >>> encode_features("u1", "i2", {"device": "ios", "hour": 13})
    {'user=u1': 1.0, 'item=i2': 1.0, 'device=ios': 1.0, 'device=ios|item=i2': 1.0, 'hour': 13.0}
    """
    out: dict[str, float] = {f"{USER}{user}": 1.0, f"item={item}": 1.0}
    for key, value in (x or {}).items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            name = f"{key}={value}"
            out[name] = 1.0
            out[f"{name}|item={item}"] = 1.0
        else:
            out[key] = float(value)
    return out


@dataclass(frozen=True)
class WeightTable:
    """Every weight but the users' (items, context, crosses) and the intercept, from ``weight`` updates."""

    weight: int
    intercept: float
    weights: dict[str, float]


class ContextualLogistic(Learner):
    """P(positive engagement | user, item, context); ``y`` is 1 for positive, 0 otherwise."""

    def __init__(self, lr: float = 0.05, l2: float = 1e-4):
        self.params: dict[str, Any] = dict(lr=lr, l2=l2)
        self.model = linear_model.LogisticRegression(optimizer=optim.SGD(lr), l2=l2)
        self.updates = 0

    def learn_one(self, user: str, item: str, y: float, x: Features | None = None) -> None:
        self.model.learn_one(encode_features(user, item, x), bool(y >= 0.5))
        self.updates = getattr(self, "updates", 0) + 1

    def predict_one(self, user: str, item: str, x: Features | None = None) -> float:
        return float(self.model.predict_proba_one(encode_features(user, item, x)).get(True, 0.0))

    # -- scale-out: a user's weight travels with their partition, the rest is averaged across processes
    def export_users(self, users: Iterable[str]) -> dict[str, float]:
        weights = self.model._weights
        return {u: weights[f"{USER}{u}"] for u in users if f"{USER}{u}" in weights}

    def import_users(self, rows: dict[str, float]) -> None:
        for user, weight in rows.items():
            self.model._weights[f"{USER}{user}"] = weight

    def drop_users(self, users: Iterable[str]) -> None:
        weights = self.model._weights
        for user in users:
            if f"{USER}{user}" in weights:
                del weights[f"{USER}{user}"]

    def item_table(self) -> WeightTable:
        shared = {k: self.model._weights[k] for k in self.model._weights if not k.startswith(USER)}
        return WeightTable(getattr(self, "updates", 0), self.model.intercept, shared)

    def merge_items(self, others: Sequence[WeightTable]) -> None:
        """Average the shared weights with ``others``', weighted by their updates.

        >>> a, b = ContextualLogistic(), ContextualLogistic()
        >>> a.learn_one("u1", "x", 1, {"device": "ios"}); b.learn_one("u2", "y", 0, {"device": "ios"})
        >>> a.merge_items([b.item_table()])
        >>> round(a.model._weights["device=ios"], 4), "item=y" in a.model._weights, "user=u2" in a.model._weights
        (0.0, True, False)
        """
        tables = [self.item_table(), *(t for t in others if t.weight > 0)]
        total = sum(t.weight for t in tables)
        if total == 0 or len(tables) == 1:
            return
        self.model.intercept = sum(t.weight * t.intercept for t in tables) / total
        sums: dict[str, float] = {}
        counts: dict[str, float] = {}
        for table in tables:
            for key, value in table.weights.items():
                sums[key] = sums.get(key, 0.0) + table.weight * value
                counts[key] = counts.get(key, 0.0) + table.weight
        for key, value in sums.items():
            self.model._weights[key] = value / counts[key]
