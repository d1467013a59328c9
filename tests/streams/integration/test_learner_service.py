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


def _gauge(text: str, name: str) -> float:
    return float(next(line.split()[-1] for line in text.splitlines() if line.startswith(name + " ")))


def test_lag_and_seconds_behind_grow_while_a_batch_is_stuck(feature_settings, catalog):
    """The broker is asked every 2 s, so a learner stuck inside a batch shows it."""
    import time

    settings = feature_settings.model_copy(update={"learner_metrics_port": free_port()})
    events = [
        m
        for m in simulate(SimulationConfig(n_events=3_000, n_users=100, n_items=100, seed=4))
        if isinstance(m, Interaction)
    ]
    publish(settings, catalog, events[:1_000])
    seen = {}

    def stuck_once(loop, n):
        if "stuck" not in seen:
            seen["stuck"] = True
            publish(settings, catalog, events[1_000:])  # arrives while this batch is "stuck"
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                text = scrape(loop.metrics_port)
                if (
                    _gauge(text, "streamrec_learner_consumer_lag") > 0
                    and _gauge(text, "streamrec_learner_behind_seconds") > 0
                ):
                    seen["lag"] = _gauge(text, "streamrec_learner_consumer_lag")
                    break
                time.sleep(0.5)

    report = run_learner(settings, LearnerConfig(), idle_exit_s=6, on_batch=stuck_once)
    assert report.processed == 3_000
    # the batch being learned is not committed yet, so it counts too: 2,000 produced meanwhile + up to 1,000
    assert 2_000 <= seen.get("lag", 0) <= 3_000, seen
