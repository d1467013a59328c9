"""Replay pacing: map event time to wall-clock time with a compression factor.

>>> from datetime import UTC, datetime, timedelta
>>> p = Pacer(speed=3600.0)          # one hour of event time per second
>>> t0 = datetime(2020, 1, 1, tzinfo=UTC)
>>> p.delay(t0, now=0.0)             # the first event sets the origin
0.0
>>> round(p.delay(t0 + timedelta(hours=2), now=0.5), 3)   # due at 2.0 s, it is 0.5 s now
1.5
>>> Pacer(speed=None).delay(t0 + timedelta(days=9), now=0.0)   # as fast as possible
0.0
"""

from __future__ import annotations

from datetime import datetime


class Pacer:
    """``speed`` = event-time seconds per wall-clock second; ``None`` or 0 = no pacing."""

    def __init__(self, speed: float | None):
        self.speed = speed if speed and speed > 0 else None
        self._origin_event: datetime | None = None
        self._origin_wall: float | None = None

    def delay(self, event_time: datetime, now: float) -> float:
        """Seconds to wait before sending an event stamped ``event_time`` at wall time ``now``."""
        if self.speed is None:
            return 0.0
        if self._origin_event is None:
            self._origin_event, self._origin_wall = event_time, now
            return 0.0
        due = self._origin_wall + (event_time - self._origin_event).total_seconds() / self.speed
        return max(0.0, due - now)
