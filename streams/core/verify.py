"""Compare what was sent with what came back from a topic: loss, duplicates, changes, order.

>>> from streams.core.contracts import Interaction
>>> a = Interaction(event_id="1", user_id="u", item_id="i", event_type="view", timestamp="2026-01-01T00:00:00Z")
>>> b = Interaction(event_id="2", user_id="u", item_id="j", event_type="view", timestamp="2026-01-01T00:00:01Z")
>>> compare([a, b], [a, b]).ok
True
>>> r = compare([a, b], [b, a, a]); (r.duplicates, r.order_violations, r.ok)
(1, 1, False)
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from streams.core.contracts import Interaction


@dataclass(frozen=True)
class RoundTrip:
    sent: int
    received: int
    missing: int
    duplicates: int
    altered: int
    order_violations: int  # users whose events came back in another order than sent
    users: int

    @property
    def ok(self) -> bool:
        return not (self.missing or self.duplicates or self.altered or self.order_violations)


def compare(sent: Iterable[Interaction], received: Iterable[Interaction]) -> RoundTrip:
    sent, received = list(sent), list(received)
    by_id = {e.event_id: e for e in sent}
    counts = Counter(e.event_id for e in received)
    altered = sum(1 for e in received if e.event_id in by_id and by_id[e.event_id] != e)
    sent_order, got_order = _per_user(sent), _per_user(first_copies(received))
    violations = sum(1 for user, ids in sent_order.items() if got_order.get(user, []) != ids)
    return RoundTrip(
        sent=len(sent),
        received=len(received),
        missing=sum(1 for i in by_id if i not in counts),
        duplicates=sum(c - 1 for c in counts.values()) + sum(1 for i in counts if i not in by_id),
        altered=altered,
        order_violations=violations,
        users=len(sent_order),
    )


def first_copies(events: Iterable[Interaction]) -> list[Interaction]:
    """Each event once (its first copy by ``event_id``), in the given order."""
    seen: set[str] = set()
    out = []
    for e in events:
        if e.event_id not in seen:
            seen.add(e.event_id)
            out.append(e)
    return out


def _per_user(events: list[Interaction]) -> dict[str, list[str]]:
    order: dict[str, list[str]] = defaultdict(list)
    for e in events:
        order[e.user_id].append(e.event_id)
    return order
