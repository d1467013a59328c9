"""Event ingest behind ``POST /events`` and ``/events/batch``: each event_id is accepted once,
and the answer comes only after the broker acknowledged the events."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from confluent_kafka import KafkaException

from serving.metrics import ApiMetrics
from streams.core.contracts import Interaction
from streams.core.errors import DeliveryError


@dataclass
class Ingest:
    """``producer``: an EventProducer(report_successes=True). ``seen_events(event_ids)``: for each
    id, True when it was already accepted (it marks the others); its optional ``forget(ids)``
    un-marks ids whose events did not reach the broker."""

    producer: object
    seen_events: Callable[[list[str]], list[bool]] | None
    metrics: ApiMetrics
    ack_timeout_s: float = 2.0  # past it without the broker's acknowledgement: 503, and the caller retries

    def accept(self, events: list[Interaction]) -> dict[str, int]:
        seen = self.seen_events([e.event_id for e in events]) if self.seen_events is not None else [False] * len(events)
        fresh, batch_ids = [], set()
        for event, already in zip(events, seen, strict=True):
            if not already and event.event_id not in batch_ids:  # repeats inside one batch count once
                fresh.append(event)
                batch_ids.add(event.event_id)
        try:  # raises when the broker did not take them in time: 503, and the caller retries
            self.producer.send_all_and_wait(fresh, self.ack_timeout_s)
        except (DeliveryError, KafkaException, BufferError):
            forget = getattr(self.seen_events, "forget", None)
            if forget is not None:  # not delivered, so a retry must not count as a duplicate
                forget([e.event_id for e in fresh])
            raise
        self.metrics.events.labels("accepted").inc(len(fresh))
        self.metrics.events.labels("duplicate").inc(len(events) - len(fresh))
        return {"accepted": len(fresh), "duplicates": len(events) - len(fresh)}
