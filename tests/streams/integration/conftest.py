"""Fixtures of the stream integration tests: workers on the test broker, Redis and Feast."""

from __future__ import annotations

import pytest

from streams.core.topics import TopicCatalog
from streams.kafka.admin import apply_topics
from tests.streams.integration.worker_harness import WorkerProcess


@pytest.fixture
def pipeline(feature_settings, tmp_path):
    catalog = TopicCatalog.load(feature_settings.topics_file, feature_settings.topic_prefix)
    apply_topics(feature_settings, catalog)
    workers: list[WorkerProcess] = []

    def start(name: str, settings=None) -> WorkerProcess:
        worker = WorkerProcess(settings or feature_settings, name, tmp_path).start()
        workers.append(worker)
        return worker

    yield feature_settings, catalog, start
    for w in workers:
        w.stop()


@pytest.fixture(scope="module")
def feast_reader():
    """One FeatureStore per module (Feast's import costs seconds)."""
    from streams.stores.feast import open_store

    return open_store
