"""The learner against the real broker: learns each event once across restarts and publishes
its snapshots as ModelUpdate records."""

import urllib.request

import pytest

from streams.core.contracts import Interaction, ModelUpdate, decode
from streams.infra.kafka import free_port
from streams.kafka.producer import EventProducer
from streams.kafka.readers import read_topic
from streams.learner.loop import LearnerConfig
from streams.learner.service import run_learner
from streams.sources.synthetic import SimulationConfig, simulate
from streams.stores.learner_status import read_status

pytestmark = pytest.mark.integration


def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        return response.read().decode()


def publish(settings, catalog, events):
    with EventProducer(settings, catalog) as producer:
        for e in events:
            producer.send(e)


def test_learns_once_across_restarts_and_publishes_model_updates(feature_settings, catalog):
    settings = feature_settings
    events = [
        m
        for m in simulate(SimulationConfig(n_events=9_000, n_users=200, n_items=200, seed=8))
        if isinstance(m, Interaction)
    ]
    config = LearnerConfig(snapshot_every_events=4_000, snapshot_every_seconds=1e9)
    publish(settings, catalog, events[:6_000])
    first = run_learner(settings, config, idle_exit_s=3)
    assert first.processed == 6_000 and first.published["ModelUpdate"] == 2  # one at 4,000 + the final one

    again = run_learner(settings, config, idle_exit_s=3)  # restart: resumes from the snapshot
    assert again.processed == 0

    publish(settings, catalog, events[6_000:])
    scraped = []
    third = run_learner(
        settings.model_copy(update={"learner_metrics_port": free_port()}),
        config,
        idle_exit_s=3,
        on_batch=lambda loop, n: scraped.append(scrape(loop.metrics_port)),
    )
    assert third.processed == 3_000
    assert any("streamrec_learner_events_total" in text for text in scraped)
    assert 'streamrec_learner_metric{name="hit_rate"}' in scraped[0]  # set with the first batch

    updates = [
        decode(ModelUpdate, r.value())
        for r in read_topic(settings, catalog.name("model-updates"), expected=5, max_seconds=30, idle_timeout_s=2)
    ]
    assert [u.alias for u in updates] == ["online"] * len(updates) and len(updates) >= 4
    assert updates[-1].metrics["events"] == 9_000 and updates[-1].uri.startswith("file://")
    status = read_status(settings)
    assert status["metrics"]["events"] == 9_000 and str(status["snapshot_version"]) == updates[-1].version
