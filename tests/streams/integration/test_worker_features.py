"""The Faust worker against the real broker, Redis and Feast: online features equal an
offline recomputation, also after kill -9, and poison records land in the dead-letter topic."""

from __future__ import annotations

import threading

import pytest
from confluent_kafka import Producer

from streams.core.contracts import Interaction, Item, encode
from streams.features.offline import offline_item_features, offline_user_features
from streams.kafka.producer import EventProducer
from streams.kafka.readers import read_topic
from streams.sources.synthetic import SimulationConfig, simulate
from tests.streams.integration.worker_harness import WorkerProcess, category_count, wait_for

pytestmark = pytest.mark.integration


def generated(n_events: int, seed: int):
    messages = list(simulate(SimulationConfig(n_events=n_events, n_users=60, n_items=90, n_categories=6, seed=seed)))
    items = [m for m in messages if isinstance(m, Item)]
    events = [m for m in messages if isinstance(m, Interaction)]
    return items, events


def publish(settings, catalog, messages) -> None:
    with EventProducer(settings, catalog) as producer:
        for m in messages:
            producer.send(m)


def start_with_catalogue(start, settings, catalog, items, name: str, worker_settings=None) -> WorkerProcess:
    """Publish the catalogue, start a worker, wait until it knows every item's category."""
    publish(settings, catalog, items)
    worker = start(name, worker_settings)
    wait_for(lambda: category_count(settings) == len(items), 120, "the catalogue", on_timeout=worker.log)
    return worker


def online_rows(store, view: str, key: str, ids: list[str], names: list[str]) -> dict[str, dict]:
    data = store.get_online_features(
        features=[f"{view}:{n}" for n in names], entity_rows=[{key: i} for i in ids]
    ).to_dict()
    return {i: {n: data[n][k] for n in names} for k, i in enumerate(data[key])}


def mismatches(expected: dict[str, dict], got: dict[str, dict]) -> list[str]:
    out = []
    for entity, row in expected.items():
        for name, value in row.items():
            have = got.get(entity, {}).get(name)
            ok = have == pytest.approx(value, rel=1e-5, abs=1e-4) if isinstance(value, float) else have == value
            if not ok:
                out.append(f"{entity}.{name}: online {have!r} != offline {value!r}")
    return out


def features_match(settings, store, items, events) -> list[str]:
    categories = {i.item_id: i.categories[0] for i in items}
    users = offline_user_features(events, categories)
    item_rows = offline_item_features(events)
    problems = mismatches(
        users, online_rows(store, "user_features", "user_id", list(users), list(next(iter(users.values()))))
    )
    problems += mismatches(
        item_rows, online_rows(store, "item_features", "item_id", list(item_rows), list(next(iter(item_rows.values()))))
    )
    return problems


def wait_until_features_match(settings, store, items, events, timeout_s, worker):
    last: list[list[str]] = [[]]

    def check():
        last[0] = features_match(settings, store, items, events)
        return not last[0]

    wait_for(
        check,
        timeout_s,
        "online features to equal the offline recomputation",
        interval=2.0,
        on_timeout=lambda: "\n".join(last[0][:10]) + "\n--- worker log ---\n" + worker.log(),
    )


@pytest.mark.parametrize("in_child", [True, False], ids=["processing-in-child", "processing-in-thread"])
def test_online_features_equal_offline_recomputation(pipeline, feast_reader, in_child):
    settings, catalog, start = pipeline
    settings = settings.model_copy(update={"worker_processing_process": in_child})
    items, events = generated(4000, seed=21)
    worker = start_with_catalogue(start, settings, catalog, items, "w-equal", settings)
    publish(settings, catalog, events)
    wait_until_features_match(settings, feast_reader(settings), items, events, 120, worker)
    catalog_row = online_rows(
        feast_reader(settings), "item_catalog", "item_id", [items[0].item_id], ["category", "title"]
    )
    assert catalog_row[items[0].item_id] == {"category": items[0].categories[0], "title": items[0].title}
    status = wait_for(
        lambda: (st := worker.status()) and st["processed"] >= 2 * len(events) and st,
        30,
        "the heartbeat to report every record",
        on_timeout=worker.log,
    )
    assert status["dead_lettered"] == 0
    assert status["event_loop"] == "uvloop"  # Faust would quietly run asyncio's (about 1.3x slower)


def test_serving_ranks_with_the_features_training_replays(pipeline, feast_reader):
    """No train/serve skew: for the same user, items and time, the ranking columns serving builds
    from the online store (written by the worker through Kafka) equal those training builds by
    replaying the feature code over the same events."""
    import numpy as np

    from models.batch.data import frame_from_events
    from models.batch.online_features import ONLINE_FEATURES, online_columns
    from serving.features import OnlineFeatures
    from streams.features.point_in_time import PointInTime

    settings, catalog, start = pipeline
    items, events = generated(3000, seed=23)
    worker = start_with_catalogue(start, settings, catalog, items, "w-skew")
    publish(settings, catalog, events)
    wait_until_features_match(settings, feast_reader(settings), items, events, 120, worker)
    at = max(e.timestamp.timestamp() for e in events) + 90.0
    serving = OnlineFeatures.for_settings(settings)
    serving._clock = lambda: at  # the request's time, as training's example time
    replay = PointInTime(frame_from_events(events), {i.item_id: i.categories[0] for i in items})
    candidates = [i.item_id for i in items]
    users = sorted({e.user_id for e in events})[:20]
    compared = 0
    for user, replayed in zip(users, replay([(u, at, candidates) for u in users]), strict=True):
        view = serving.user(user)
        served = view.lookup(candidates)
        recent = view.history[-10:]
        assert recent == list(replayed.user["recent_items"])[-10:]
        a, b = online_columns(served, candidates, recent), online_columns(replayed, candidates, recent)
        assert a.shape == (len(candidates), len(ONLINE_FEATURES))
        assert np.allclose(a, b, rtol=1e-5, atol=1e-4, equal_nan=True), [
            (ONLINE_FEATURES[c], a[r, c], b[r, c]) for r, c in np.argwhere(~np.isclose(a, b, equal_nan=True))
        ][:5]
        compared += int(np.isfinite(a).sum())
    assert compared > len(users) * len(candidates) * (len(ONLINE_FEATURES) - 2)


def test_kill9_mid_stream_then_restart_loses_nothing_and_counts_nothing_twice(pipeline, feast_reader):
    settings, catalog, start = pipeline
    items, events = generated(12_000, seed=22)
    first = start_with_catalogue(start, settings, catalog, items, "w-doomed")
    producer = threading.Thread(target=publish, args=(settings, catalog, events))
    producer.start()
    wait_for(
        lambda: (first.status() or {}).get("processed", 0) > 3000,
        120,
        "progress before the crash",
        interval=0.2,
        on_timeout=first.log,
    )
    first.kill9()
    producer.join()
    second = start("w-survivor")
    wait_until_features_match(settings, feast_reader(settings), items, events, 180, second)
    # the full seen-set came through the crash too: every item of every user, nothing else
    import redis

    from streams.stores.seen_items import SeenItems

    seen = SeenItems(redis.Redis.from_url(settings.redis_url), settings.topic_prefix, settings.seen_items_cap)
    expected: dict[str, set[str]] = {}
    for event in events:
        expected.setdefault(event.user_id, set()).add(event.item_id)
    assert max(map(len, expected.values())) <= settings.seen_items_cap
    wait_for(lambda: all(seen.of(u) == i for u, i in expected.items()), 30, "the seen-sets", on_timeout=second.log)


def test_a_standby_worker_takes_over_a_killed_workers_partitions_within_seconds(pipeline, feast_reader):
    """Two workers share the partitions; one is killed with SIGKILL; the other processes what was
    the dead one's share within seconds (the session timeout), losing and double-counting nothing."""
    import time

    from streams.kafka.readers import GroupLag

    settings, catalog, start = pipeline
    items, events = generated(6_000, seed=23)
    doomed = start_with_catalogue(start, settings, catalog, items, "w-doomed")
    standby = start("w-standby")
    publish(settings, catalog, events[:3_000])
    lag = GroupLag(settings, settings.worker_group, catalog.name("interactions"))
    try:
        wait_for(lambda: lag() == 0, 120, "both workers to drain the first half", on_timeout=standby.log)
        wait_for(standby.status, 120, "the standby to be ready (stores open)", on_timeout=standby.log)
        doomed.kill9()
        killed = time.monotonic()
        publish(settings, catalog, events[3_000:])  # every partition gets new events, the dead one's too
        wait_for(lambda: lag() == 0, 60, "the standby to take over", interval=0.2, on_timeout=standby.log)
        took = time.monotonic() - killed
    finally:
        lag.close()
    print(f"took over {took:.1f} s after the SIGKILL")
    assert took < 12.0, f"took over after {took:.1f}s (goal 10 s, measured by bench faults)"
    wait_until_features_match(settings, feast_reader(settings), items, events, 120, standby)


def test_poison_records_go_to_the_dead_letter_topic_with_reasons(pipeline, feast_reader):
    settings, catalog, start = pipeline
    items, events = generated(600, seed=23)
    topic = catalog.name("interactions")
    poison = [
        (b"bad-json", b'{"user_id": "u1", "item_id": '),
        (b"wrong-type", b'{"user_id": "u1", "item_id": "i1", "event_type": "rating", "value": "five"}'),
        (b"missing", b'{"user_id": "u1", "event_type": "view"}'),
        (
            b"oversized",
            encode(
                Interaction(
                    user_id="u1",
                    item_id="i1",
                    event_type="view",
                    context={"blob": "x" * (settings.max_event_bytes + 10)},
                ).model_copy()
            ),
        ),
        (b"tombstone", None),
    ]
    worker = start_with_catalogue(start, settings, catalog, items, "w-poison")
    raw = Producer({"bootstrap.servers": settings.kafka_bootstrap_servers})
    half = len(events) // 2
    publish(settings, catalog, events[:half])
    for key, value in poison:
        raw.produce(topic, value, key)
    assert raw.flush(30) == 0
    publish(settings, catalog, events[half:])
    dead = list(read_topic(settings, catalog.name("interactions-dlq"), expected=len(poison), max_seconds=120))
    assert sorted(r.key() for r in dead) == sorted(k for k, _ in poison)
    for record in dead:
        headers = {k: v.decode() for k, v in record.headers()}
        assert headers["original.topic"] == topic
        assert headers["consumer.group"] == settings.worker_group
        assert int(headers["original.offset"]) >= 0 and headers["error.class"] == "InvalidEvent"
        if record.key() == b"tombstone":  # no bytes to keep: an empty value, and a header says so
            assert record.value() in (b"", None) and headers["value.null"] == "true"
            continue
        assert record.value() == dict(poison)[record.key()]  # the original bytes, untouched
    reasons = {r.key(): dict(r.headers())["error.message"].decode() for r in dead}
    assert "Invalid JSON" in reasons[b"bad-json"]
    assert "field 'value'" in reasons[b"wrong-type"]
    assert "field 'item_id'" in reasons[b"missing"]
    assert "exceeds max_event_bytes" in reasons[b"oversized"]
    wait_until_features_match(settings, feast_reader(settings), items, events, 120, worker)


def test_wipe_then_backfill_brings_the_features_back(pipeline, feast_reader):
    import redis

    from streams.features.wiring import build_processor
    from streams.stores.archive import read_archive
    from streams.worker.backfill import plan, run

    settings, catalog, start = pipeline
    items, events = generated(3000, seed=24)
    worker = start_with_catalogue(start, settings, catalog, items, "w-before-wipe")
    publish(settings, catalog, events)
    store = feast_reader(settings)
    wait_until_features_match(settings, store, items, events, 120, worker)
    worker.stop()

    client = redis.Redis.from_url(settings.redis_url)
    category_map = client.hgetall(f"{settings.topic_prefix}sr:item-category")
    client.flushdb()  # the online store and all feature state are gone
    assert features_match(settings, store, items, events)
    client.hset(
        f"{settings.topic_prefix}sr:item-category", mapping=category_map
    )  # the catalogue is replayed separately

    topic = catalog.name("interactions")
    ranges = plan(settings, topic, None, None)
    assert sum(r.count for r in ranges) == len(events)
    processor = build_processor(settings, catalog, write_unchanged=True)
    report = run(settings, topic, ranges, processor)
    assert (report.read, report.applied, report.skipped) == (len(events), len(events), 0)
    assert features_match(settings, store, items, events) == []

    again = run(settings, topic, plan(settings, topic, None, None), processor)  # idempotent
    assert (again.applied, again.skipped) == (0, len(events))
    assert features_match(settings, store, items, events) == []
    archived = read_archive(settings.archive_dir)
    assert sorted(archived["event_id"]) == sorted(e.event_id for e in events)
