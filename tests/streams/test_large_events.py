"""No size of valid input loses data: events at the size limit are forwarded to the item side in
micro-batches that each fit the producer's request limit, and a dead letter too large for it keeps
its first bytes and says so."""

import redis

from streams.core.contracts import Interaction, ItemEventBatch, decode, encode
from streams.features.processor import MAX_FORWARD_BYTES, FeatureProcessor, item_partition
from streams.kafka.runner import Record
from streams.stores.feast import NullWriter

PRODUCER_LIMIT = 1024 * 1024


def big_event(n: int, item: str) -> Interaction:
    return Interaction(
        event_id=f"e{n}",
        user_id=f"u{n}",
        item_id=item,
        event_type="click",
        context={f"k{j}": "x" * 985 for j in range(62)},
    )  # ~62 KB, under max_event_bytes


def test_forty_events_of_sixty_kilobytes_are_forwarded_in_batches_under_the_limit():
    processor = FeatureProcessor(
        redis.Redis(port=1), NullWriter(), prefix="t-", group="g", item_partitions=6, max_event_bytes=64 * 1024
    )
    events = [big_event(n, "one-item") for n in range(40)]
    valid = [(Record("interactions", 0, n, None, encode(e)), e) for n, e in enumerate(events)]
    assert all(60_000 < len(r.value) < 64 * 1024 for r, _ in valid), len(valid[0][0].value)
    forwards = processor._route_to_items(valid)
    assert len(forwards) > 1 and all(len(payload) <= MAX_FORWARD_BYTES + 64 * 1024 for _, payload in forwards)
    assert all(len(payload) < PRODUCER_LIMIT for _, payload in forwards)
    assert {p for p, _ in forwards} == {item_partition("one-item", 6)}
    back = [r.event.event_id for _, payload in forwards for r in decode(ItemEventBatch, payload).events]
    assert back == [e.event_id for e in events]  # all of them, in order
