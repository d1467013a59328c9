"""The broker killed (SIGKILL) under a running API, on a broker of this test's own: answers keep
their latency, ingest refuses promptly with 503, ``/ready`` names the outage, and everything
heals by itself when the broker is back, with every acknowledged event in the topic."""

import os
import signal
import time
import uuid

import pytest
from fastapi.testclient import TestClient

from serving.dependencies import production_probes
from serving.runtime import redis_dedup
from serving.state import ModelState
from streams.core.contracts import Interaction, decode
from streams.core.settings import Settings
from streams.core.topics import TopicCatalog
from streams.infra.kafka import LocalKafka, free_port
from streams.kafka.admin import apply_topics
from streams.kafka.producer import EventProducer
from streams.kafka.readers import read_topic
from tests.serving.wiring import make_app

ACK_TIMEOUT_S = 2.0
REFUSAL_BOUND_S = ACK_TIMEOUT_S + 1.0  # the ack deadline, plus the request's own work
ANSWER_BOUND_S = 0.5  # /recommend, /health, /ready during the outage


@pytest.fixture
def own_broker(tmp_path):
    broker = LocalKafka(tmp_path / "kafka", free_port(), free_port(), heap="512m")
    broker.start(timeout_s=120)
    yield broker
    broker.stop()


def _timed(call):
    began = time.monotonic()
    response = call()
    return response, time.monotonic() - began


def _event(n: int) -> dict:
    return {"event_id": f"e{n}", "user_id": f"u{n % 7}", "item_id": f"i{n % 11}", "event_type": "click"}


def test_a_killed_broker_degrades_quickly_and_heals_by_itself(own_broker, redis_url, model, tmp_path):
    settings = Settings(
        kafka_bootstrap_servers=own_broker.bootstrap,
        topic_prefix=f"t{uuid.uuid4().hex[:8]}-",
        run_dir=tmp_path,
        redis_url=redis_url,
        serve_ingest_ack_timeout_s=ACK_TIMEOUT_S,
        _env_file=None,
    )
    catalog = TopicCatalog.load(settings.topics_file, settings.topic_prefix)
    apply_topics(settings, catalog)
    producer = EventProducer(settings, catalog, report_successes=True)
    state = ModelState("ranker")
    state.install(model, "1")
    liked = model.popular(3)
    app = make_app(
        settings,
        state,
        lambda user: liked,
        producer,
        redis_dedup(settings),
        probes=production_probes(settings, producer),
    )
    api = TestClient(app)
    acknowledged = set()

    assert api.post("/events", json=_event(0)).status_code == 202
    acknowledged.add("e0")
    assert api.get("/ready").json()["dependencies"]["broker"] == "up"

    os.kill(own_broker.process.pid(), signal.SIGKILL)
    time.sleep(0.5)

    refusals = []
    for n in (1, 2):
        response, took = _timed(lambda n=n: api.post("/events", json=_event(n)))
        refusals.append((response.status_code, took))
    batch, batch_took = _timed(lambda: api.post("/events/batch", json=[_event(3), _event(4)]))
    refusals.append((batch.status_code, batch_took))
    assert all(status == 503 for status, _ in refusals), refusals
    assert max(took for _, took in refusals) < REFUSAL_BOUND_S, refusals
    assert "retry" in batch.json()["detail"]

    answers = [_timed(lambda i=i: api.post("/recommend", json={"user_id": f"u{i}", "k": 5})) for i in range(30)]
    statuses = {r.status_code for r, _ in answers}
    slowest = max(took for _, took in answers)
    assert statuses == {200} and slowest < ANSWER_BOUND_S, (statuses, slowest)
    assert not any(r.json()["fallback"] for r, _ in answers)  # the broker is not on the answer's path

    ready, ready_took = _timed(lambda: api.get("/ready"))
    assert ready.status_code == 200 and ready_took < 1.5, ready_took  # answers go on: degraded, not unready
    assert ready.json()["dependencies"]["broker"].startswith("down") and ready.json()["degraded"]
    assert _timed(lambda: api.get("/health"))[1] < ANSWER_BOUND_S
    assert 'streamrec_api_dependency_up{dependency="broker"} 0.0' in api.get("/metrics").text

    own_broker.start(timeout_s=120)
    deadline, healed = time.monotonic() + 60, False
    while time.monotonic() < deadline and not healed:  # the caller retries what was refused
        healed = api.post("/events/batch", json=[_event(n) for n in (1, 2, 3, 4)]).status_code == 202
        time.sleep(0.5)
    assert healed, "ingest did not come back by itself within 60 s of the broker's return"
    acknowledged |= {"e1", "e2", "e3", "e4"}
    assert api.get("/ready").json()["dependencies"]["broker"] == "up"

    records = read_topic(settings, catalog.name("interactions"), idle_timeout_s=5)
    in_topic = {decode(Interaction, record.value()).event_id for record in records}
    assert acknowledged <= in_topic  # no acknowledged event lost; copies are dropped by event_id downstream
    producer.flush(timeout_s=10, raise_on_failure=False)
