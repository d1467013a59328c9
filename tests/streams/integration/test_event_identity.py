"""Idempotent on the event's identity: re-sent copies of events (same event_id, new offsets) change
no feature, reach neither the item side nor the archive nor the seen-set, and a crash that
re-delivers the copies' records does not let them through either. Real Redis, the real processor."""

import random

import pytest
import redis

from streams.core.contracts import Interaction, Item, encode
from streams.features.item import ItemState, item_features
from streams.features.offline import offline_user_features
from streams.features.processor import FeatureProcessor, routed_events
from streams.kafka.runner import Record
from streams.sources.synthetic import SimulationConfig, simulate
from streams.stores.archive import read_archive
from streams.stores.feast import NullWriter

pytestmark = pytest.mark.integration


class RowsWriter(NullWriter):
    """Keeps the last feature row written per key (what Feast would hold)."""

    def __init__(self):
        self.rows: dict[str, dict] = {}

    def write(self, view, key, rows, timestamps) -> int:
        if view == "user_features":
            self.rows.update(rows)
        return len(rows)


def test_re_sent_copies_count_once_through_crash_and_replay(redis_url, tmp_path):
    messages = list(simulate(SimulationConfig(n_events=3_000, n_users=40, n_items=60, n_categories=5, seed=31)))
    events = [m for m in messages if isinstance(m, Interaction)]
    categories = {m.item_id: m.categories[0] for m in messages if isinstance(m, Item)}
    rng = random.Random(3)
    # the stream as Kafka holds it: every event once, plus 300 re-sent copies a little later
    stream = list(events)
    for _ in range(300):
        at = rng.randrange(len(stream))
        original = stream[at]
        stream.insert(min(len(stream), at + rng.randint(1, 20)), original.model_copy())
    records, offsets = [], {}
    for e in stream:
        p = hash(e.user_id) % 3
        records.append(Record("interactions", p, offsets.setdefault(p, 0), e.user_id.encode(), encode(e)))
        offsets[p] += 1
    client = redis.Redis.from_url(redis_url)
    prefix = f"t{rng.randrange(10**9)}-"
    client.hset(f"{prefix}sr:item-category", mapping=categories)
    writer = RowsWriter()
    processor = FeatureProcessor(
        client,
        writer,
        prefix=prefix,
        group="g",
        item_partitions=6,
        max_event_bytes=64 * 1024,
        archive_dir=tmp_path / "archive",
    )
    items: dict[str, ItemState] = {}
    forwarded, duplicates = [], 0
    for start in range(0, len(records), 250):
        batch = records[start : start + 250]
        for attempt in (batch, batch):  # each batch twice: a crash after the effects, before the commit
            result = processor.process_interactions(attempt)
            duplicates += result.duplicates
            for r in routed_events(result.valid):
                forwarded.append(r.event.event_id)
                items.setdefault(r.event.item_id, ItemState()).apply(r.event, r.source_partition, r.source_offset)
    expected = offline_user_features(events, categories)
    for user, row in expected.items():
        got = writer.rows[user]
        for name, value in row.items():
            same = (
                got[name] == pytest.approx(value, rel=1e-5, abs=1e-4)
                if isinstance(value, float)
                else got[name] == value
            )
            assert same, f"{user}.{name}: online {got[name]!r} != offline {value!r}"
    counts = {i: item_features(s, 0)["interactions_total"] for i, s in items.items()}
    assert counts == {i: sum(e.item_id == i for e in events) for i in counts}  # the item side counted once
    assert sorted(set(forwarded)) == sorted(e.event_id for e in events)
    assert duplicates == 2 * 300  # each copy seen twice (once per delivery), dropped both times
    archived = read_archive(tmp_path / "archive")
    assert len(archived) == len(events)
