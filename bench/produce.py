"""Producer throughput: streamrec's EventProducer vs raw confluent-kafka in the same run.

Three producers send the same events to fresh 6-partition topics on the same broker, with the
same librdkafka settings (idempotence, acks=all, lz4, linger 5 ms), rounds interleaved:

- ``raw bytes``: ``Producer.produce`` of pre-encoded bytes (the client's ceiling);
- ``raw json``: ``json.dumps`` of a dict + ``produce`` (typical hand-written glue);
- ``streamrec``: ``EventProducer.send(Interaction)`` (validated contract -> JSON -> produce).

Then the consume rate of a plain confluent-kafka consumer reading one topic back.
"""

from __future__ import annotations

import json
import statistics
import time
import uuid
from dataclasses import dataclass

from confluent_kafka import Producer

from streams.core.contracts import Interaction, encode
from streams.core.settings import Settings
from streams.core.topics import Create, TopicCatalog
from streams.kafka.admin import admin_client, execute
from streams.kafka.producer import POLL_EVERY, EventProducer, producer_config
from streams.kafka.readers import read_topic
from streams.sources.synthetic import SimulationConfig, simulate


@dataclass
class ProduceBenchResult:
    events: int
    repeats: int
    payload_bytes: float
    rates: dict[str, list[float]]  # producer -> msg/s per round
    consume_rate: float

    def median(self, name: str) -> float:
        return statistics.median(self.rates[name])

    def ratio(self, name: str, baseline: str = "raw bytes") -> float:
        return self.median(name) / self.median(baseline)

    def markdown(self, command: str) -> str:
        rows = "\n".join(
            f"| {name} | {self.median(name):,.0f} | {min(r):,.0f}–{max(r):,.0f} | {self.ratio(name):.2f}× |"
            for name, r in self.rates.items()
        )
        return f"""## Producer throughput (`streamrec bench produce`)

Command: `{command}` — {self.events:,} interactions per round, {self.repeats} rounds interleaved
after a warm-up round,
mean payload {self.payload_bytes:.0f} bytes, key = user_id, 6 partitions, one local KRaft broker
(Kafka 4.1.1) on the same machine; idempotence on, acks=all, lz4, linger.ms=5.

| producer | median msg/s | range | vs raw bytes |
|---|---|---|---|
{rows}

Consume back (plain confluent-kafka consumer, one process): **{self.consume_rate:,.0f} msg/s**.

Goal: streamrec ≥ 0.8× raw confluent-kafka → **{self.ratio("streamrec"):.2f}×**
({"met" if self.ratio("streamrec") >= 0.8 else "NOT met"}).
Anchor (published, different conditions): confluent-kafka ≈ 183k msg/s produce / 261k consume,
100-byte messages (see `../shared/notes/anchors.md`)."""


def run(settings: Settings, events: int = 200_000, repeats: int = 3, progress=print) -> ProduceBenchResult:
    catalog = TopicCatalog.load(settings.topics_file, settings.topic_prefix)
    run_id = uuid.uuid4().hex[:6]
    names = {
        "raw bytes": f"bench-{run_id}-raw",
        "raw json": f"bench-{run_id}-json",
        "streamrec": f"bench-{run_id}-ours",
    }
    execute(admin_client(settings), [Create(t, 6, 1, {}) for t in names.values()])
    progress(f"preparing {events:,} events...")
    sample = [m for m in simulate(SimulationConfig(n_events=min(events, 50_000), seed=1)) if isinstance(m, Interaction)]
    batch = (sample * (events // len(sample) + 1))[:events]
    encoded = [(e.kafka_key(), encode(e)) for e in batch]
    dicts = [e.model_dump(mode="json") for e in batch]
    rates: dict[str, list[float]] = {name: [] for name in names}
    config = producer_config(settings, **{"delivery.report.only.error": True})
    for round_no in range(0, repeats + 1):  # round 0 warms up broker and clients, not counted
        for name, topic in names.items():
            began = time.perf_counter()
            if name == "streamrec":
                ours_catalog = _retarget(catalog, topic)
                with EventProducer(settings, ours_catalog) as producer:
                    for event in batch:
                        producer.send(event)
            else:
                _raw(Producer(config), topic, encoded if name == "raw bytes" else dicts, name == "raw json")
            rate = events / (time.perf_counter() - began)
            if round_no:
                rates[name].append(rate)
            progress(f"round {round_no or 'warm-up'}/{repeats} {name:10s} {rate:,.0f} msg/s")
    began = time.perf_counter()
    consumed = sum(
        1 for _ in read_topic(settings, names["streamrec"], expected=events * (repeats + 1), idle_timeout_s=3)
    )
    consume_rate = consumed / (time.perf_counter() - began)
    progress(f"consumed {consumed:,} at {consume_rate:,.0f} msg/s")
    admin_client(settings).delete_topics(list(names.values()))
    return ProduceBenchResult(events, repeats, statistics.mean(len(v) for _, v in encoded[:1000]), rates, consume_rate)


def _raw(producer: Producer, topic: str, records, as_json: bool) -> None:
    for n, record in enumerate(records, start=1):
        if as_json:
            key, value = record["user_id"].encode(), json.dumps(record).encode()
        else:
            key, value = record
        while True:
            try:
                producer.produce(topic, value, key)
                break
            except BufferError:
                producer.poll(0.05)
        if n % POLL_EVERY == 0:
            producer.poll(0)
    if producer.flush(60):
        raise RuntimeError("raw producer did not deliver everything")


def _retarget(catalog: TopicCatalog, topic: str) -> TopicCatalog:
    """The catalog with `interactions` pointing at the bench topic."""
    from dataclasses import replace
    from types import MappingProxyType

    topics = dict(catalog.topics)
    topics["interactions"] = replace(topics["interactions"], name=topic)
    return TopicCatalog(MappingProxyType(topics), catalog.prefix)
