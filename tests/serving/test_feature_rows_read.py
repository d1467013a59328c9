"""Serving reads Feast's Redis rows itself (one pipeline, its own decoding): the rows must be the
ones Feast's own ``get_online_features`` returns, and the user's row and seen-set must come in a
single round trip."""

import pytest

from bench.memory import user_states
from serving.features import OnlineFeatures
from streams.core.contracts import Interaction
from streams.features.item import ItemState, item_features
from streams.features.user import user_features
from streams.stores.feast import FeatureReader, FeatureWriter, apply_definitions, open_store
from streams.stores.seen_items import SeenItems

pytestmark = pytest.mark.integration

USERS = ["u1", "u2", "u3"]


@pytest.fixture
def store_settings(feature_settings, tmp_path):
    s = feature_settings.model_copy(update={"run_dir": tmp_path, "feast_project": "rows"})
    store = open_store(s)
    apply_definitions(store, s.feature_repo)
    events = [
        Interaction(user_id=u, item_id=f"i{n}", event_type=kind, value=4.0 if kind == "rating" else None)
        for n, (u, kind) in enumerate(
            [("u1", "click"), ("u1", "rating"), ("u2", "view"), ("u1", "purchase"), ("u2", "click")]
        )
    ]
    states = user_states(events, {"i0": "c1", "i1": "c2", "i3": "c1"})
    FeatureWriter(store).write(
        "user_features", "user_id", {u: user_features(s) for u, s in states.items()}, {u: 1.0e9 for u in states}
    )
    item = ItemState()
    for n, e in enumerate(events[:2]):
        item.apply(e, 0, n)
    FeatureWriter(store).write("item_features", "item_id", {"i1": item_features(item, 2)}, {"i1": 1.0e9})
    SeenItems.for_settings(s).add((e.user_id, e.item_id, 100.0 + n) for n, e in enumerate(events))
    return s, store


def _feasts_own(store, view: str, key: str, entities: list[str]) -> dict:
    names = [f.name for f in store.get_feature_view(view).features]
    found = store.get_online_features(
        features=[f"{view}:{n}" for n in names], entity_rows=[{key: e} for e in entities]
    ).to_dict()
    return {e: {n: found[n][i] for n in names} for i, e in enumerate(entities)}


def test_rows_read_directly_are_feasts_own(store_settings):
    s, store = store_settings
    reader = FeatureReader(store)
    users = reader.read("user_features", "user_id", USERS)
    assert users["u3"] is None  # no events: no row
    for user, row in _feasts_own(store, "user_features", "user_id", ["u1", "u2"]).items():
        assert users[user] == row
    assert users["u1"]["recent_items"] == ["i0", "i1", "i3"] and users["u1"]["events_total"] == 3
    items = reader.read("item_features", "item_id", ["i1", "i9"])
    assert items["i9"] is None
    assert items["i1"] == _feasts_own(store, "item_features", "item_id", ["i1"])["i1"]


def test_many_rows_come_in_one_command_and_equal_the_rows_read_one_by_one(store_settings, monkeypatch):
    s, store = store_settings
    reader = FeatureReader(store)
    asked = ["u2", "nobody", "u1", "u3", "u1"]
    one_by_one = {u: reader.read("user_features", "user_id", [u])[u] for u in asked}
    commands = []
    execute = type(reader._redis).execute_command
    monkeypatch.setattr(
        type(reader._redis), "execute_command", lambda self, *a, **k: commands.append(a[0]) or execute(self, *a, **k)
    )
    together = reader.read("user_features", "user_id", asked)
    assert together == one_by_one and together["u1"]["events_total"] == 3 and together["nobody"] is None
    assert commands == ["EVALSHA"]  # one command, not a pipeline of HMGETs


def test_the_users_row_and_seen_set_come_in_one_round_trip(store_settings, monkeypatch):
    s, _ = store_settings
    seen = SeenItems.for_settings(s)
    features = OnlineFeatures.for_settings(s, seen)
    assert features.reads_seen
    view = features.user("u1")  # warm: the view's fields and the user's key are computed once
    calls = []
    client = seen.client
    original = type(client).pipeline

    def counted(self, *args, **kwargs):
        pipe = original(self, *args, **kwargs)
        execute = pipe.execute
        pipe.execute = lambda *a, **k: calls.append(1) or execute(*a, **k)
        return pipe

    monkeypatch.setattr(type(client), "pipeline", counted)
    view = features.user("u1")
    assert len(calls) == 1
    assert view.seen == seen.read("u1") and view.seen.items == {"i0", "i1", "i3"}
    assert view.history == ["i0", "i1", "i3"]
    empty = features.user("u3")
    assert empty.row is None and empty.seen.items == frozenset()


def test_a_remembered_row_is_decoded_again_only_when_its_bytes_change(store_settings):
    s, store = store_settings
    reader = FeatureReader(store, remember=("item_features",))
    first = reader.read("item_features", "item_id", ["i1"])["i1"]
    assert reader.read("item_features", "item_id", ["i1"])["i1"] is first  # unchanged: the same row
    FeatureWriter(store).write("item_features", "item_id", {"i1": {**first, "trending_score": 7.0}}, {"i1": 2.0e9})
    again = reader.read("item_features", "item_id", ["i1"])["i1"]
    assert again is not first and again["trending_score"] == 7.0


def test_rows_written_directly_are_byte_for_byte_feasts_own(store_settings):
    from datetime import UTC, datetime

    import redis

    from streams.stores.feast_layout import entity_keys

    s, store = store_settings
    writer = FeatureWriter(store)
    row = FeatureReader(store).read("user_features", "user_id", ["u1"])["u1"]
    writer.write("user_features", "user_id", {"direct": row}, {"direct": 1.5e9})
    view, converters = writer._view("user_features")
    values = {name: convert(row[name]) for name, convert in converters.items()}
    feasts = [(entity_keys("user_id", ["feast"])[0], values, datetime.fromtimestamp(1.5e9, UTC), None)]
    store._get_provider().online_write_batch(store.config, view, feasts, progress=None)
    client = redis.Redis.from_url(s.redis_url)
    keys = FeatureReader(store).hmget("user_features", "user_id", ["direct", "feast"])
    direct, feast = (client.hgetall(k) for k, _ in keys)
    assert direct == feast and len(direct) == len(converters) + 1  # every feature and the timestamp
