"""/events answers for its own events only: within its deadline when the broker is away (503,
retry), and unaffected by a failure some earlier request met (the shared producer's cumulative
failure count once made every later flush raise: 503 for good after one outage)."""

import time

import pytest

from serving.ingest import Ingest
from serving.metrics import ApiMetrics
from streams.core.contracts import Interaction
from streams.core.errors import DeliveryError
from streams.infra.kafka import free_port
from streams.kafka.producer import EventProducer

pytestmark = pytest.mark.integration


def click(n: int) -> Interaction:
    return Interaction(event_id=f"ack-{n}", user_id="u1", item_id=f"i{n}", event_type="click")


def test_no_broker_means_a_prompt_refusal(settings, catalog):
    away = settings.model_copy(update={"kafka_bootstrap_servers": f"127.0.0.1:{free_port()}"})
    ingest = Ingest(EventProducer(away, catalog, report_successes=True), None, ApiMetrics(), ack_timeout_s=1.0)
    began = time.monotonic()
    with pytest.raises(DeliveryError, match="not acknowledged"):
        ingest.accept([click(1), click(2)])
    assert time.monotonic() - began < 3.0


def test_an_earlier_failure_does_not_refuse_later_events(settings, catalog):
    producer = EventProducer(settings, catalog, report_successes=True)
    producer.stats.failed = 3  # what a past outage left in the shared producer's counters
    ingest = Ingest(producer, None, ApiMetrics())
    assert ingest.accept([click(3), click(4)]) == {"accepted": 2, "duplicates": 0}
