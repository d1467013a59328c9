"""The full seen-set in real Redis: every item, bounded to the newest, unchanged by replays and by
the order events come in; its size per user is measured."""

import random

import pytest
import redis

from streams.stores.seen_items import SeenItems

pytestmark = pytest.mark.integration


@pytest.fixture
def seen(redis_url):
    return SeenItems(redis.Redis.from_url(redis_url), prefix=f"t{random.randrange(10**9)}-", cap=50)


def test_every_item_once_and_replays_change_nothing(seen):
    events = [("u1", f"i{n % 30}", 1000.0 + n) for n in range(90)] + [("u2", "x", 5.0)]
    seen.add(events)
    first = seen.of("u1")
    assert first == {f"i{n}" for n in range(30)} and seen.of("u2") == {"x"}
    shuffled = events[:]
    random.Random(1).shuffle(shuffled)
    seen.add(shuffled)  # a replay, out of order
    seen.add(events[:10])  # a partial re-delivery
    assert seen.of("u1") == first and seen.of("nobody") == set()


def test_the_cap_keeps_the_newest_whatever_the_order(seen):
    events = [("u", f"i{n}", float(n)) for n in range(200)]
    random.Random(2).shuffle(events)
    for start in range(0, 200, 17):  # many batches in a random order
        seen.add(events[start : start + 17])
    newest = {f"i{n}" for n in range(150, 200)}
    assert seen.of("u") == newest
    seen.add([("u", "i3", 3.0)])  # an old event replayed after the trim comes and goes
    assert seen.of("u") == newest
    assert 0 < seen.bytes_of("u") < 8 * 1024


def test_unavailable_redis_reads_as_none():
    down = SeenItems(redis.Redis(port=1, socket_timeout=0.2))
    assert down.of("u") is None
