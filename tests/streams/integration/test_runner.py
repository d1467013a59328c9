"""The one consume runner against the real broker: handler per batch, commit after effects, one
bad-record policy (dead-letter with headers, or skip-and-count), idle exit, and a handler that
raises leaves its batch to be read again."""

import threading

import pytest

from streams.core.contracts import Interaction, decode
from streams.kafka.producer import EventProducer
from streams.kafka.readers import read_topic
from streams.kafka.runner import ConsumeRunner, DeadLetterBadRecords, SkipBadRecords

pytestmark = pytest.mark.integration


def produce(settings, catalog, good: int, bad: list[bytes]) -> str:
    topic = catalog.name("interactions")
    with EventProducer(settings, catalog) as producer:
        for n in range(good):
            producer.send(Interaction(event_id=f"e{n}", user_id=f"u{n % 3}", item_id=f"i{n}", event_type="click"))
        for value in bad:
            producer.send_bytes(topic, b"u0", value)
    return topic


def runner(settings, topic, policy, group="g-runner"):
    return ConsumeRunner(
        settings, group=group, topics=[topic], decode=lambda v: decode(Interaction, v), bad_records=policy
    )


def test_bad_records_are_dead_lettered_with_headers_and_the_good_ones_handled(settings, catalog):
    topic = produce(settings, catalog, good=20, bad=[b"not json", b'{"user_id": ""}'])
    seen = []
    with EventProducer(settings, catalog) as producer:
        letters = DeadLetterBadRecords(producer, catalog.name("interactions-dlq"))
        stats = runner(settings, topic, letters).run(lambda batch: seen.extend(batch.events()), idle_exit_s=2)
    assert sorted(e.event_id for e in seen) == sorted(f"e{n}" for n in range(20))
    assert stats.bad == 2 and letters.dead_lettered == 2 and stats.idle_exits == 1
    dead = list(read_topic(settings, catalog.name("interactions-dlq"), expected=2, max_seconds=30, idle_timeout_s=2))
    headers = [dict(m.headers()) for m in dead]
    assert {m.value() for m in dead} == {b"not json", b'{"user_id": ""}'}
    assert all(h["original.topic"] == topic.encode() and h["error.class"] == b"InvalidEvent" for h in headers)


def test_skipped_records_are_counted_and_offsets_move_past_them(settings, catalog):
    topic = produce(settings, catalog, good=5, bad=[b"junk"])
    skip = SkipBadRecords("test")
    first = runner(settings, topic, skip, group="g-skip").run(lambda batch: None, idle_exit_s=2)
    assert skip.skipped == 1 and first.records == 5
    again = runner(settings, topic, SkipBadRecords("test"), group="g-skip").run(lambda batch: None, idle_exit_s=2)
    assert again.records == 0 and again.bad == 0  # all committed, the bad record included


def test_a_failing_handler_commits_nothing_and_the_batch_comes_again(settings, catalog):
    topic = produce(settings, catalog, good=10, bad=[])

    def fail(batch):
        raise RuntimeError("effect failed")

    with pytest.raises(RuntimeError):
        runner(settings, topic, SkipBadRecords("test"), group="g-retry").run(fail, idle_exit_s=2)
    seen = []
    runner(settings, topic, SkipBadRecords("test"), group="g-retry").run(
        lambda b: seen.extend(b.events()), idle_exit_s=2
    )
    assert len(seen) == 10


def test_stop_and_the_handlers_say_end_the_run(settings, catalog):
    topic = produce(settings, catalog, good=10, bad=[])
    stop = threading.Event()
    stop.set()
    assert runner(settings, topic, SkipBadRecords("test"), group="g-stop").run(lambda b: None, stop=stop).batches == 0
    stats = runner(settings, topic, SkipBadRecords("test"), group="g-done").run(lambda b: True)
    assert stats.batches == 1


def test_a_decoder_needs_a_policy(settings):
    with pytest.raises(ValueError, match="bad-record policy"):
        ConsumeRunner(settings, group="g", topics=["t"], decode=bytes.decode)
