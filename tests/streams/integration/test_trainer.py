"""The trainer against real Kafka and a real MLflow store (sqlite backend, local artifacts) on
small generated data: a request becomes a registered version with the right aliases; a worse
model is never promoted; rollback restores the previous champion; a failing run leaves the
champion alone and notifies the webhook; a re-delivered request is not trained twice."""

import http.server
import json
import threading

import pytest

from models.batch.data import frame_from_events
from models.batch.pipeline import TrainConfig
from models.batch.ranker import RankerConfig
from models.promotion import QualityGates
from streams.core.contracts import Interaction, ModelUpdate, RetrainRequest, decode
from streams.kafka.producer import EventProducer
from streams.kafka.readers import read_topic
from streams.sources.synthetic import SimulationConfig, simulate
from streams.stores.archive import write_batch
from streams.stores.registry import Registry
from streams.trainer.job import run_training
from streams.trainer.service import run_trainer

pytestmark = pytest.mark.integration

GOOD = TrainConfig(sasrec_epochs=2)
WORSE = TrainConfig(use_sasrec=False, ease_l2=1e9, knn_neighbours=1, ranker=RankerConfig(candidates_per_generator=2))


@pytest.fixture
def trainer_settings(settings, redis_url, tmp_path):
    return settings.model_copy(
        update={
            "redis_url": redis_url,
            "mlflow_tracking_uri": f"sqlite:///{tmp_path}/mlflow.db",
            "run_dir": tmp_path,
            "archive_dir": tmp_path / "archive",
            "worker_metrics_port": 0,
        }
    )


@pytest.fixture(scope="module")
def events():
    sim = SimulationConfig(n_events=15_000, n_users=200, n_items=150, n_categories=6, seed=4)
    return [m for m in simulate(sim) if isinstance(m, Interaction)]


def request(reason="test", **kw):
    return RetrainRequest(model_name="ranker", trigger="manual", reason=reason, **kw)


class Webhook(http.server.BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):
        Webhook.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_registry_aliases_promotion_rollback_and_failure(trainer_settings, events):
    s = trainer_settings
    frame = frame_from_events(events)
    first = run_training(s, request("first"), frame, GOOD)
    assert first.status == "promoted" and first.version == "1"
    assert [(u.alias, u.version) for u in first.updates] == [("challenger", "1"), ("champion", "1")]
    assert first.metrics["ndcg@10"] > 0

    registry = Registry(s.mlflow_tracking_uri, "ranker")
    tags = registry.version_tags("1")
    artifacts = {f.path for f in registry.client.list_artifacts(first.run_id)}
    assert {
        "evaluation.md",
        "evaluation.json",
        "evaluation.html",
        "features.json",
        "data_drift.html",
        "data_drift.json",
    } <= artifacts
    assert len(registry.load("1").recommend(["i1", "i2"], 3)) == 3  # the registered model loads and serves
    assert tags["trigger"] == "manual" and tags["reason"] == "first" and "data_window" in tags and tags["code_version"]

    worse = run_training(s, request("worse"), frame, WORSE)
    assert worse.status == "not_promoted" and worse.version == "2"
    assert registry.alias_version("challenger") == "2" and registry.alias_version("champion") == "1"
    assert "champion" in worse.reason or "popularity gate" in worse.reason
    assert registry.version_tags("2")["promotion"] == worse.reason

    again = run_training(s, request("same data, same config"), frame, GOOD)
    assert again.status == "not_promoted" and "only within the noise" in again.reason  # a tie keeps the incumbent
    assert registry.alias_version("champion") == "1"
    tie = run_training(s, request("a tie may win when asked"), frame, GOOD, QualityGates(clearly_better=False))
    assert tie.status == "promoted" and registry.alias_version("champion") == "4"
    update = registry.rollback()
    assert (update.alias, update.version) == ("champion", "1") and registry.alias_version("champion") == "1"

    server = http.server.HTTPServer(("127.0.0.1", 0), Webhook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    hooked = s.model_copy(update={"trainer_webhook_url": f"http://127.0.0.1:{server.server_port}/hook"})
    failed = run_training(hooked, request("no data"), frame.iloc[:0], GOOD)
    server.shutdown()
    assert failed.status == "failed" and "not enough data" in failed.reason
    run = registry.client.get_run(failed.run_id)
    assert run.info.status == "FAILED" and "not enough data" in run.data.tags["failure"]
    assert registry.alias_version("champion") == "1"  # untouched
    assert Webhook.received and "failed" in Webhook.received[-1]["text"]


def test_a_request_on_kafka_is_trained_once_and_published(trainer_settings, catalog, events):
    s = trainer_settings
    write_batch(s.archive_dir, ((0, n, e) for n, e in enumerate(events)))
    with EventProducer(s, catalog, report_successes=True) as producer:
        producer.send_and_wait(request("from kafka", dry_run=False))
    outcomes = run_trainer(s, idle_exit_s=5, config=GOOD)
    assert [o.status for o in outcomes] == ["promoted"]
    updates = [
        decode(ModelUpdate, r.value())
        for r in read_topic(s, catalog.name("model-updates"), expected=2, max_seconds=20, idle_timeout_s=2)
    ]
    assert [(u.alias, u.version) for u in updates] == [("challenger", "1"), ("champion", "1")]
    # the same request again (a re-delivery): found finished, not retrained
    redelivered = run_training(
        s,
        RetrainRequest.model_validate(
            {"request_id": outcomes[0].request_id, "model_name": "ranker", "trigger": "manual", "reason": "again"}
        ),
        frame_from_events(events),
        GOOD,
    )
    assert redelivered.status == "skipped"
