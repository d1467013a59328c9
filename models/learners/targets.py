"""How events become learning targets (implicit feedback weighted by event type, from the one
event table :mod:`streams.core.events`).

>>> implicit_target("purchase", None), implicit_target("rating", 4.0), is_positive("view", None)
(5.0, 4.0, False)
"""

from __future__ import annotations

from streams.core import events

POSITIVE = events.positive_names()


def implicit_target(event_type: str, value: float | None) -> float:
    """Preference strength on a 0-5 scale: explicit ratings as given, else the event's weight."""
    kind = events.kind(event_type)
    if kind.explicit:
        if value is None:
            raise ValueError(f"a {event_type} event needs a value")
        return float(value)
    return kind.weight


def is_positive(event_type: str, value: float | None) -> bool:
    """Binary engagement: the table's positive kinds, or a rating of 4 and above."""
    kind = events.kind(event_type)
    if kind.explicit:
        return value is not None and value >= 4.0
    return kind.positive
