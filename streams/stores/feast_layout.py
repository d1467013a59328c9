"""Where Feast's Redis online store keeps a row: the key of each entity, the hash field of each
feature, and the row's timestamp field. Computed by the online store's own helpers, once per
view and once per entity, so that streamrec can read and write rows in pipelines of its own
(one round trip, without Feast's per-row Python) in exactly Feast's format.
"""

from __future__ import annotations

from typing import Any

from streams.stores.feast_values import timestamp_bytes

KEY_CACHE = 1_000_000  # entity -> Redis key entries kept per view


def entity_keys(key: str, entities: list[str]) -> list:
    from feast.protos.feast.types.EntityKey_pb2 import EntityKey
    from feast.protos.feast.types.Value_pb2 import Value

    return [EntityKey(join_keys=[key], entity_values=[Value(string_val=e)]) for e in entities]


def is_redis(store) -> bool:
    return type(store._get_provider().online_store).__name__ == "RedisOnlineStore"


class RowLayout:
    def __init__(self, store):
        self._store, self._online = store, store._get_provider().online_store
        self._views: dict[str, Any] = {}
        self._fields: dict[str, tuple[list[str], list]] = {}  # view -> (names, hash fields), timestamp last
        self._keys: dict[str, dict[str, bytes]] = {}  # view -> entity -> its row's Redis key

    def view(self, view_name: str):
        if view_name not in self._views:
            self._views[view_name] = self._store.get_feature_view(view_name)
        return self._views[view_name]

    def fields(self, view_name: str) -> tuple[list[str], list]:
        """(feature names, their hash fields), each ending with the row's timestamp field."""
        if view_name not in self._fields:
            from feast.infra.online_stores.redis import _versioned_fv_name

            name = _versioned_fv_name(self.view(view_name), self._store.config)
            self._fields[view_name] = self._online._generate_hset_keys_for_features(
                self.view(view_name), None, fv_name_override=name
            )
        return self._fields[view_name]

    def keys(self, view_name: str, key: str, entities: list[str]) -> list[bytes]:
        known = self._keys.setdefault(view_name, {})
        missing = [e for e in entities if e not in known]
        if missing:
            if len(known) + len(missing) > KEY_CACHE:
                known.clear()
            found = self._online._generate_redis_keys_for_entities(self._store.config, entity_keys(key, missing))
            known.update(zip(missing, found, strict=True))
        return [known[e] for e in entities]

    def hset(self, pipe, view_name: str, key: str, rows: dict[str, dict[str, bytes]], times: dict[str, float]) -> None:
        """Queue the ``HSET`` of each row (feature name -> its serialised Feast ``Value``) with its
        event time, as the online store's own write does (and its key expiry, when one is configured)."""
        names, fields = self.fields(view_name)
        field_of = dict(zip(names[:-1], fields[:-1], strict=True))
        ttl = getattr(self._store.config.online_store, "key_ttl_seconds", None)
        for redis_key, (entity, values) in zip(self.keys(view_name, key, list(rows)), rows.items(), strict=True):
            mapping = {fields[-1]: timestamp_bytes(times[entity])}
            for name, value in values.items():
                mapping[field_of[name]] = value
            pipe.hset(redis_key, mapping=mapping)
            if ttl:
                pipe.expire(redis_key, ttl)
