"""Builds a :class:`FeatureProcessor` on the configured Redis and Feast (worker and backfill)."""

from __future__ import annotations

import redis

from streams.core.settings import Settings
from streams.core.topics import TopicCatalog
from streams.features.processor import FeatureProcessor


def build_processor(
    settings: Settings,
    catalog: TopicCatalog,
    *,
    features: bool = True,
    archive: bool = True,
    write_unchanged: bool = False,
) -> FeatureProcessor:
    from streams.stores.feast import FeatureWriter, NullWriter, apply_definitions, open_store

    if features:
        store = open_store(settings)
        apply_definitions(store, settings.feature_repo)
        writer = FeatureWriter(store)
    else:
        writer = NullWriter()
    client = redis.Redis.from_url(settings.redis_url, socket_timeout=10)
    return FeatureProcessor(
        client,
        writer,
        prefix=settings.topic_prefix,
        group=settings.worker_group,
        item_partitions=catalog["interactions-by-item"].partitions,
        max_event_bytes=settings.max_event_bytes,
        archive_dir=settings.archive_dir if archive else None,
        write_unchanged=write_unchanged,
        seen_items_cap=settings.seen_items_cap,
    )
