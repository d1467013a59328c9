"""The Feast edge: a FeatureStore built from Settings, the repo's definitions applied, rows written.

Feast is imported here only (6-8 s cold import): in the worker, backfill and serving processes.
"""

from __future__ import annotations

import importlib
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from streams.core.errors import ConfigError
from streams.core.settings import Settings
from streams.stores.feast_layout import KEY_CACHE, RowLayout, entity_keys, is_redis
from streams.stores.feast_values import encoder


def redis_connection_string(url: str) -> str:
    """``redis://host:port/db`` -> Feast's ``host:port,db=N`` (password kept when given).

    >>> redis_connection_string("redis://127.0.0.1:6380/2")
    '127.0.0.1:6380,db=2'
    """
    parsed = urlparse(url)
    parts = [f"{parsed.hostname or '127.0.0.1'}:{parsed.port or 6379}", f"db={(parsed.path or '/0').strip('/') or 0}"]
    if parsed.password:
        parts.append(f"password={parsed.password}")
    if parsed.scheme == "rediss":
        parts.append("ssl=true")
    return ",".join(parts)


def open_store(settings: Settings):
    """A FeatureStore on the configured Redis (or SQLite when ``online_store=sqlite``)."""
    from feast import FeatureStore, RepoConfig

    registry = settings.run_dir / "feast" / "registry.db"
    registry.parent.mkdir(parents=True, exist_ok=True)
    if settings.online_store == "redis":
        online = {"type": "redis", "connection_string": redis_connection_string(settings.redis_url), "skip_dedup": True}
    else:
        online = {"type": "sqlite", "path": str(settings.run_dir / "feast" / "online.db")}
    config = RepoConfig(
        project=settings.feast_project,
        provider="local",
        registry=str(registry),
        online_store=online,
        offline_store={"type": "file"},
        entity_key_serialization_version=3,
        repo_path=str(settings.feature_repo),
    )
    return FeatureStore(config=config)


def definitions(repo: Path) -> list[Any]:
    """Entities, sources, views and services declared in the Feast repository ``repo``."""
    if not (repo / "views.py").is_file():
        raise ConfigError(f"no Feast repository at {repo}: set STREAMREC_FEATURE_REPO to streamrec's feature_repo/")
    if str(repo) not in sys.path:
        sys.path.insert(0, str(repo))
    objects: dict[tuple[str, str], Any] = {}  # a module also sees the names it imports
    for module_name in ("entities", "sources", "views", "services"):
        module = importlib.import_module(module_name)
        for name, value in vars(module).items():
            if not name.startswith("_") and _is_feast_object(value):
                objects[(type(value).__name__, value.name)] = value
    return list(objects.values())


def _is_feast_object(value: Any) -> bool:
    from feast import Entity, FeatureService, FeatureView, PushSource

    return isinstance(value, (Entity, FeatureService, FeatureView, PushSource))


def apply_definitions(store, repo: Path) -> int:
    """``feast apply`` in code (idempotent); how many objects were applied."""
    objects = definitions(repo)
    store.apply(objects)
    return len(objects)


class FeatureWriter:
    """Writes feature rows into Feast's online store, in its format.

    With Redis: one pipeline of ``HSET`` commands, the keys and fields computed once by Feast's own
    helpers (:class:`~streams.stores.feast_layout.RowLayout`), as the online store's
    ``online_write_batch`` (``skip_dedup``) writes them but without its per-row key, hash and
    timestamp work, and with each value serialised straight from the view's schema
    (:mod:`streams.stores.feast_values`). Otherwise through the provider's ``online_write_batch``,
    rows becoming protos directly, not through pandas and arrow (about 0.3 ms per row).
    """

    def __init__(self, store):
        self._store = store
        self._provider = store._get_provider()
        self._views: dict[str, tuple[Any, dict[str, Any]]] = {}
        self._encoded: dict[str, dict[str, Any]] = {}
        self._layout = RowLayout(store) if is_redis(store) else None

    def _view(self, name: str):
        """(the view, feature name -> its Feast ``Value``)."""
        if name not in self._views:
            view = self._store.get_feature_view(name)
            self._views[name] = (view, {f.name: _converter(f.dtype.to_value_type()) for f in view.features})
        return self._views[name]

    def _encoders(self, name: str) -> dict[str, Any]:
        """Feature name -> its serialised ``Value`` (:mod:`streams.stores.feast_values`)."""
        if name not in self._encoded:
            view, _ = self._view(name)
            self._encoded[name] = {f.name: encoder(f.dtype.to_value_type().name) for f in view.features}
        return self._encoded[name]

    def write(self, view_name: str, key: str, rows: dict[str, dict[str, Any]], event_times: dict[str, float]) -> int:
        """``rows``: entity id -> feature dict; ``event_times``: entity id -> epoch seconds."""
        if not rows:
            return 0
        if self._layout is not None:
            encoders = self._encoders(view_name)
            serialised = {
                e: {name: encode(features[name]) for name, encode in encoders.items()} for e, features in rows.items()
            }
            client = self._provider.online_store._get_client(self._store.config.online_store)
            pipe = client.pipeline(transaction=False)
            self._layout.hset(pipe, view_name, key, serialised, event_times)
            pipe.execute()
            return len(serialised)
        view, converters = self._view(view_name)
        values = {
            e: {name: convert(features[name]) for name, convert in converters.items()} for e, features in rows.items()
        }
        batch = [
            (entity_keys(key, [e])[0], row, datetime.fromtimestamp(event_times[e], UTC), None)
            for e, row in values.items()
        ]
        self._provider.online_write_batch(self._store.config, view, batch, progress=None)
        return len(batch)


class NullWriter:
    """Stands in for :class:`FeatureWriter` when only the archive is wanted."""

    def write(self, view_name: str, key: str, rows: dict, event_times: dict) -> int:
        return 0


def _converter(value_type):
    from feast.protos.feast.types.Value_pb2 import StringList, Value
    from feast.value_type import ValueType

    if value_type == ValueType.INT64:
        return lambda v: Value(int64_val=int(v))
    if value_type == ValueType.FLOAT:
        return lambda v: Value(float_val=float(v))
    if value_type == ValueType.DOUBLE:
        return lambda v: Value(double_val=float(v))
    if value_type == ValueType.STRING:
        return lambda v: Value(string_val=str(v)) if v is not None else Value()
    if value_type == ValueType.STRING_LIST:
        return lambda v: Value(string_list_val=StringList(val=list(v)))
    raise ValueError(f"no converter for Feast type {value_type}")


# KEYS: rows' keys; ARGV: the hash fields (one view's). Returns each row's HMGET reply. Its keys
# are all in KEYS, but a view's rows span slots: like the state store's compare-and-set, it wants
# a single Redis (or a primary with replicas), not Redis Cluster (docs/operations.md).
_ROWS = """
local rows = {}
for i, key in ipairs(KEYS) do rows[i] = redis.call('HMGET', key, unpack(ARGV)) end
return rows
"""


class FeatureReader:
    """Reads feature rows from Feast's online store: one round trip per call, without
    ``get_online_features``' per-call response building (its cost grows with the number of
    entities: the ~100 candidates of a request).

    With the Redis online store, :meth:`hmget` and :meth:`decode` split a read in two, so that a
    caller can put it in a pipeline of its own next to other commands (serving reads the user's
    row and seen-set in one round trip). Keys and fields are the online store's own
    (:class:`~streams.stores.feast_layout.RowLayout`)."""

    def __init__(self, store, client=None, remember: tuple[str, ...] = ()):
        """``client``: the Redis client Feast's online store reads with. Feast's own has no
        socket timeout and retries with back-off, so a Redis that stops answering would hold a
        request for tens of seconds; serving passes one with its deadline
        (:func:`streams.stores.redis_client.open_redis`). ``remember``: views whose rows are
        re-read often (serving's item cache): a row whose bytes did not change is not decoded again."""
        self._store = store
        self._provider = store._get_provider()
        self._layout = RowLayout(store)
        self._memo: dict[str, dict[str, tuple]] = {v: {} for v in remember}  # view -> entity -> (bytes, row)
        if client is not None:
            self._provider.online_store._client = client
        self._redis = None
        if is_redis(store):
            online = self._provider.online_store
            self._redis = client if client is not None else online._get_client(store.config.online_store)
            self._rows_script = self._redis.register_script(_ROWS)

    def read(self, view_name: str, key: str, entities: list[str]) -> dict[str, dict[str, Any] | None]:
        """Entity id -> its row as plain Python values (None when the store holds no row for it).
        With Redis: one command (a script running :meth:`hmget`'s ``HMGET`` per row; a pipeline
        of them cost the serving refresher ~35 ms of the GIL per 2,000 rows, which requests
        waited for), then :meth:`decode`."""
        if self._redis is None:
            view = self._layout.view(view_name)
            found = self._provider.online_read(self._store.config, view, entity_keys(key, entities))
            return {entity: _row(values) for entity, (_, values) in zip(entities, found, strict=True)}
        commands = self.hmget(view_name, key, entities)
        if len(commands) > 1:  # one command for all rows: a pipeline costs the client ~15 µs per HMGET
            replies = self._rows_script(keys=[k for k, _ in commands], args=commands[0][1])
            return self.decode(view_name, entities, replies)
        pipe = self._redis.pipeline(transaction=False)
        for redis_key, fields in commands:
            pipe.hmget(redis_key, fields)
        return self.decode(view_name, entities, pipe.execute())

    def hmget(self, view_name: str, key: str, entities: list[str]) -> list[tuple[bytes, list]]:
        """(Redis key, hash fields) of each entity's row: the ``HMGET`` arguments of a read."""
        fields = self._layout.fields(view_name)[1]
        return [(k, fields) for k in self._layout.keys(view_name, key, entities)]

    def decode(self, view_name: str, entities: list[str], replies: list) -> dict[str, dict[str, Any] | None]:
        """The ``HMGET`` replies of :meth:`hmget`'s commands -> what :meth:`read` returns (each
        field a serialised Feast ``Value``; the last field is the row's timestamp, left out)."""
        from feast.protos.feast.types.Value_pb2 import Value

        names = self._layout.fields(view_name)[0][:-1]
        memo = self._memo.get(view_name)
        if memo is not None and len(memo) > KEY_CACHE:
            memo.clear()
        out: dict[str, dict[str, Any] | None] = {}
        for entity, values in zip(entities, replies, strict=True):
            if memo is not None and (known := memo.get(entity)) is not None and known[0] == values:
                out[entity] = known[1]  # the same bytes as last time: the same row, not decoded again
                continue
            row = {
                name: _python(Value.FromString(raw)) if raw else None for name, raw in zip(names, values, strict=False)
            }
            out[entity] = row if any(v is not None for v in row.values()) else None
            if memo is not None:
                memo[entity] = (values, out[entity])
        return out


def _row(values) -> dict[str, Any] | None:
    if not values:
        return None
    row = {name: _python(value) for name, value in values.items()}
    return row if any(v is not None for v in row.values()) else None


def _python(value) -> Any:
    kind = value.WhichOneof("val")
    if kind is None:
        return None
    found = getattr(value, kind)
    return list(found.val) if kind.endswith("_list_val") else found
