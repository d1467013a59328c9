"""The registry (a real MLflow server) killed with SIGKILL while a retrain request waits: the
trainer neither fails nor loses the request and trains it once the registry is back; the API goes
on answering with the champion it holds, says the registry is down, and refuses admin calls with a
prompt 503 instead of hanging."""

import os
import signal
import threading
import time

import pytest
from fastapi.testclient import TestClient

from models.batch.data import frame_from_events
from models.batch.pipeline import TrainConfig
from serving.admin import Admin
from serving.runtime import watch_champion
from serving.state import ModelState
from streams.core.contracts import Interaction, RetrainRequest
from streams.infra.kafka import free_port
from streams.infra.mlflow_server import LocalMlflow
from streams.kafka.producer import EventProducer
from streams.sources.synthetic import SimulationConfig, simulate
from streams.stores.archive import write_batch
from streams.trainer.job import run_training
from streams.trainer.service import run_trainer
from tests.serving.wiring import make_app

pytestmark = pytest.mark.integration

FAST = TrainConfig(use_sasrec=False)
ANSWER_BOUND_S = 0.5  # /recommend while the registry is away
ADMIN_BOUND_S = 3.0  # an admin call's refusal (MLflow's own default would retry for minutes)


@pytest.fixture
def registry_server(tmp_path):
    server = LocalMlflow(tmp_path / "mlflow-server", free_port())
    server.start(timeout_s=180)
    yield server
    server.stop()


def _until(check, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout_s:.0f} s: {what}")


def _request(reason: str) -> RetrainRequest:
    return RetrainRequest(model_name="ranker", trigger="manual", reason=reason)


def test_a_registry_outage_delays_retraining_and_leaves_serving_alone(
    settings, catalog, redis_url, registry_server, tmp_path
):
    s = settings.model_copy(
        update={
            "redis_url": redis_url,
            "mlflow_tracking_uri": registry_server.url,
            "run_dir": tmp_path,
            "archive_dir": tmp_path / "archive",
            "trainer_metrics_port": 0,
        }
    )
    sim = SimulationConfig(n_events=8_000, n_users=100, n_items=80, n_categories=4, seed=5)
    events = [m for m in simulate(sim) if isinstance(m, Interaction)]
    assert run_training(s, _request("the first champion"), frame_from_events(events), FAST).status == "promoted"

    state, stop = ModelState("ranker"), threading.Event()
    threading.Thread(target=watch_champion, args=(s, state, stop, 0.5), daemon=True).start()
    _until(lambda: state.served.model is not None, 60, "the champion loaded")
    producer = EventProducer(s, catalog, report_successes=True)
    liked = state.served.model.popular(3)
    api = TestClient(make_app(s, state, lambda user: liked, producer, admin=Admin(s, producer)))
    write_batch(s.archive_dir, ((0, n, e) for n, e in enumerate(events)))
    producer.send_and_wait(_request("arrives while the registry is away"))

    os.killpg(registry_server.process.pid(), signal.SIGKILL)  # the server and its workers
    notes, outcomes = [], []
    trainer = threading.Thread(
        target=lambda: outcomes.extend(run_trainer(s, idle_exit_s=5, config=FAST, progress=notes.append)), daemon=True
    )
    trainer.start()
    _until(
        lambda: any("registry is unavailable" in n for n in notes), 60, f"the trainer waits for the registry: {notes}"
    )

    answers = []
    for n in range(20):
        began = time.monotonic()
        response = api.post("/recommend", json={"user_id": f"u{n}", "k": 5})
        answers.append((response, time.monotonic() - began))
    assert all(r.status_code == 200 and not r.json()["fallback"] for r, _ in answers)
    assert all(r.json()["model_version"] == "1" for r, _ in answers)
    assert max(took for _, took in answers) < ANSWER_BOUND_S, [took for _, took in answers]

    ready = _until(
        lambda: (r := api.get("/ready")).json()["dependencies"]["registry"].startswith("down") and r, 30, "/ready"
    )
    assert ready.status_code == 200 and ready.json()["degraded"]
    for call in (
        lambda: api.get("/models"),
        lambda: api.post("/models/ranker/promote", json={"version": "1"}),
        lambda: api.post("/models/ranker/rollback"),
    ):
        began = time.monotonic()
        response = call()
        took = time.monotonic() - began
        assert took < ADMIN_BOUND_S, (response.request.url, took)
        if response.request.method == "GET":
            assert response.status_code == 200 and "registry_error" in response.json()  # still says what is served
        else:
            assert response.status_code == 503 and "registry is unavailable" in response.json()["detail"]
    assert trainer.is_alive() and not outcomes  # waiting, not failed; the request is not committed

    registry_server.start(timeout_s=180)
    trainer.join(timeout=300)
    assert not trainer.is_alive()
    assert [o.status for o in outcomes] in (["promoted"], ["not_promoted"]), [(o.status, o.reason) for o in outcomes]
    _until(lambda: api.get("/ready").json()["dependencies"]["registry"] == "up", 30, "/ready sees the registry back")
    stop.set()
    producer.flush(timeout_s=10, raise_on_failure=False)
