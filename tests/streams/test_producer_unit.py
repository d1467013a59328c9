"""Producer behaviour that needs no broker: refusals before sending, failures surfaced."""

import pytest

from streams.core.contracts import Interaction
from streams.core.errors import DeliveryError, InvalidEvent
from streams.core.settings import Settings
from streams.core.topics import TopicCatalog
from streams.kafka.producer import EventProducer, producer_config


def unreachable_settings(**kw):
    return Settings(kafka_bootstrap_servers="127.0.0.1:1", _env_file=None, **kw)


def test_config_is_idempotent_acks_all():
    conf = producer_config(unreachable_settings())
    assert conf["enable.idempotence"] is True and conf["acks"] == "all"


def test_oversized_events_are_refused_before_sending(project_root):
    settings = unreachable_settings(max_event_bytes=300)
    producer = EventProducer(settings, TopicCatalog.load(project_root / "topics.yaml"))
    big = Interaction(user_id="u", item_id="i", event_type="view", context={"blob": "x" * 400})
    with pytest.raises(InvalidEvent, match="exceeds max_event_bytes=300"):
        producer.send(big)
    assert producer.stats.sent == 0


def test_undelivered_records_raise_on_flush(project_root):
    producer = EventProducer(
        unreachable_settings(),
        TopicCatalog.load(project_root / "topics.yaml"),
        **{"message.timeout.ms": 300, "log_level": 0},
    )
    producer.send(Interaction(user_id="u", item_id="i", event_type="view"))
    with pytest.raises(DeliveryError, match="1 record\\(s\\) failed"):
        producer.flush(timeout_s=5)
    assert producer.stats.failed == 1 and producer.stats.delivered == 0
