"""10k events through the real broker come back identical, once each, in per-user order."""

import pytest

from streams.core.contracts import Interaction, decode
from streams.core.verify import compare
from streams.kafka.producer import EventProducer
from streams.kafka.readers import end_offsets, read_range
from streams.sources.synthetic import SimulationConfig, simulate

pytestmark = pytest.mark.integration


def test_ten_thousand_events_round_trip(settings, catalog):
    sent = [m for m in simulate(SimulationConfig(n_events=10_000, n_users=300, seed=11)) if isinstance(m, Interaction)]
    topic = catalog.name("interactions")
    with EventProducer(settings, catalog) as producer:
        for event in sent:
            producer.send(event)
    assert producer.stats.delivered == 10_000 and producer.stats.failed == 0

    records = list(read_range(settings, topic, {}, end_offsets(settings, topic)))
    received = [decode(Interaction, r.value()) for r in records]
    result = compare(sent, received)
    assert result.ok, result
    assert result.received == 10_000 and result.users > 100
    # the key is the user id, so one user's events live in one partition
    partitions_per_user = {}
    for record, event in zip(records, received, strict=True):
        assert record.key() == event.user_id.encode()
        partitions_per_user.setdefault(event.user_id, set()).add(record.partition())
    assert all(len(p) == 1 for p in partitions_per_user.values())
    assert len({r.partition() for r in records}) == catalog["interactions"].partitions
    # payload bytes are exactly what the contract encodes
    assert [r.value() for r in records[:50]] == [e.model_dump_json().encode() for e in received[:50]]


def test_send_and_wait_returns_the_acknowledged_offset(settings, catalog):
    producer = EventProducer(settings, catalog, report_successes=True)
    event = Interaction(user_id="u-ack", item_id="i1", event_type="purchase")
    partition, offset = producer.send_and_wait(event)
    again = producer.send_and_wait(event)
    assert again == (partition, offset + 1)
    records = list(read_range(settings, catalog.name("interactions"), {partition: offset}, {partition: offset + 2}))
    assert [decode(Interaction, r.value()) for r in records] == [event, event]
