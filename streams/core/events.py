"""The one table of event types: what each kind of interaction means to every part of streamrec.

Add a row here and the contract (:class:`streams.core.contracts.EventType`), the online features
(windowed counts and category affinity), the Feast views, the online learners' targets, the
training labels and the experiments' default rewards all know it. Nothing else lists event types.

>>> kind("purchase").weight, kind("purchase").grade, kind("purchase").positive
(5.0, 4, True)
>>> [k.name for k in EVENT_KINDS if k.positive]
['click', 'like', 'add_to_cart', 'purchase']
>>> kind("teleport")
Traceback (most recent call last):
...
KeyError: "unknown event type 'teleport' (known: view, click, like, add_to_cart, purchase, dislike, rating)"
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EventKind:
    name: str
    weight: float  # implicit preference strength on the 0-5 scale (online learners' target)
    affinity: float  # how much it says about the user's taste for the item's category (features)
    grade: int  # relevance grade of the training labels (LambdaMART)
    positive: bool  # engagement: a reward for experiments and exploration, a hit for the learners
    explicit: bool = False  # carries a value (a rating) that replaces weight, affinity and grade


EVENT_KINDS: list[EventKind] = [
    EventKind("view", weight=1.0, affinity=1.0, grade=1, positive=False),
    EventKind("click", weight=2.0, affinity=2.0, grade=2, positive=True),
    EventKind("like", weight=3.0, affinity=3.0, grade=3, positive=True),
    EventKind("add_to_cart", weight=4.0, affinity=4.0, grade=3, positive=True),
    EventKind("purchase", weight=5.0, affinity=5.0, grade=4, positive=True),
    EventKind("dislike", weight=0.0, affinity=-3.0, grade=0, positive=False),
    # explicit: the value decides (stars >= 4 positive; affinity centred on 2.5; grade 3/2/1)
    EventKind("rating", weight=0.0, affinity=0.0, grade=1, positive=False, explicit=True),
]


def register(new: EventKind) -> None:
    """Add a kind before the contracts are imported (they build their enum from this table once)."""
    if any(k.name == new.name for k in EVENT_KINDS):
        raise ValueError(f"event type {new.name!r} exists")
    EVENT_KINDS.append(new)


def names() -> list[str]:
    return [k.name for k in EVENT_KINDS]


def kind(name: str) -> EventKind:
    for k in EVENT_KINDS:
        if k.name == name:
            return k
    raise KeyError(f"unknown event type {name!r} (known: {', '.join(names())})")


def positive_names() -> frozenset[str]:
    return frozenset(k.name for k in EVENT_KINDS if k.positive)
