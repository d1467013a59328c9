"""A contextual click model: logistic regression over user, item and context features."""

from __future__ import annotations

from typing import Any

from river import linear_model, optim

from models.learners.base import Features, Learner


def encode_features(user: str, item: str, x: Features | None) -> dict[str, float]:
    """One-hot ids and categorical context, numbers as they are; crosses of context with the item.

    >>> encode_features("u1", "i2", {"device": "ios", "hour": 13})
    {'user=u1': 1.0, 'item=i2': 1.0, 'device=ios': 1.0, 'device=ios|item=i2': 1.0, 'hour': 13.0}
    """
    out: dict[str, float] = {f"user={user}": 1.0, f"item={item}": 1.0}
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

    def learn_one(self, user: str, item: str, y: float, x: Features | None = None) -> None:
        self.model.learn_one(encode_features(user, item, x), bool(y >= 0.5))

    def predict_one(self, user: str, item: str, x: Features | None = None) -> float:
        return float(self.model.predict_proba_one(encode_features(user, item, x)).get(True, 0.0))
