"""The learner protocol: what the stream, the trainer and serving call."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from typing import Any

Features = Mapping[str, Any]


class Learner(ABC):
    """An online recommender model: learns from one (user, item, target) at a time.

    Subclasses keep their constructor arguments in ``self.params`` so that :meth:`clone`
    can build a fresh, untrained copy. Nothing here mutates the ``x`` it is given.
    """

    params: dict[str, Any]

    @abstractmethod
    def learn_one(self, user: str, item: str, y: float, x: Features | None = None) -> None:
        """Update the model with one observation."""

    @abstractmethod
    def predict_one(self, user: str, item: str, x: Features | None = None) -> float:
        """Score a (user, item) pair; defined for unseen users and items too."""

    def rank(self, user: str, items: Iterable[str], x: Features | None = None) -> list[str]:
        """``items`` from best to worst for ``user`` (ties broken by item id, for determinism)."""
        return sorted(items, key=lambda item: (-self.predict_one(user, item, x), item))

    def clone(self) -> Learner:
        """A fresh, untrained learner with the same parameters."""
        return type(self)(**self.params)
