"""A contextual click model: logistic regression over user, item and context features."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from river import linear_model, optim

from models.learners.base import Features, Learner

USER = "user="
INTERCEPT = "(intercept)"


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


class ContextualLogistic(Learner):
    """P(positive engagement | user, item, context); ``y`` is 1 for positive, 0 otherwise."""

    def __init__(self, lr: float = 0.05, l2: float = 1e-4):
        self.params: dict[str, Any] = dict(lr=lr, l2=l2)
        self.model = linear_model.LogisticRegression(optimizer=optim.SGD(lr), l2=l2)
        self.changed: set[str] | None = None  # scale-out: shared weights changed since the last sync

    def learn_one(self, user: str, item: str, y: float, x: Features | None = None) -> None:
        features = encode_features(user, item, x)
        self.model.learn_one(features, bool(y >= 0.5))
        changed = getattr(self, "changed", None)
        if changed is not None:
            changed.update(features)

    def predict_one(self, user: str, item: str, x: Features | None = None) -> float:
        return float(self.model.predict_proba_one(encode_features(user, item, x)).get(True, 0.0))

    # -- scale-out: a user's weight travels with their partition, the rest is synced across processes
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

    def track_changes(self) -> None:
        """From now on, remember which weights change (``changed``, emptied by whoever syncs)."""
        self.changed = set()

    def shared_weights(self, keys=None) -> dict[str, float]:
        """The weights but the users' (items, context, crosses) and the intercept; ``keys``: only those."""
        weights = self.model._weights
        keys = weights if keys is None else (k for k in keys if k in weights)
        return {k: weights[k] for k in keys if not k.startswith(USER)} | {INTERCEPT: self.model.intercept}

    def set_shared_weights(self, shared: dict[str, float]) -> None:
        for key, value in shared.items():
            if key == INTERCEPT:
                self.model.intercept = value
            else:
                self.model._weights[key] = value
