"""How events become learning targets (implicit feedback weighted by event type).

>>> implicit_target("purchase", None), implicit_target("rating", 4.0), is_positive("view", None)
(5.0, 4.0, False)
"""

from __future__ import annotations

IMPLICIT_WEIGHTS: dict[str, float] = {
    "view": 1.0, "click": 2.0, "like": 3.0, "add_to_cart": 4.0, "purchase": 5.0, "dislike": 0.0,
}
POSITIVE = {"click", "like", "add_to_cart", "purchase"}


def implicit_target(event_type: str, value: float | None) -> float:
    """Preference strength on a 0-5 scale: explicit ratings as given, else the event's weight."""
    if event_type == "rating":
        if value is None:
            raise ValueError("a rating needs a value")
        return float(value)
    return IMPLICIT_WEIGHTS[event_type]


def is_positive(event_type: str, value: float | None) -> bool:
    """Binary engagement: clicks and deeper, or a rating of 4 and above."""
    if event_type == "rating":
        return value is not None and value >= 4.0
    return event_type in POSITIVE
