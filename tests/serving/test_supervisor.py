"""Background threads of the API are supervised: one that fails is restarted, and /ready says it
is down meanwhile."""

import threading
import time

from fastapi.testclient import TestClient

from serving.app import create_app
from serving.deps import Services
from serving.metrics import ApiMetrics
from serving.recommender import Recommender
from serving.state import ModelState
from serving.supervisor import Supervisor
from streams.core.settings import Settings


def test_a_failed_thread_is_restarted_and_ready_says_so_meanwhile(model):
    stop, calls, release = threading.Event(), [], threading.Event()

    def flaky() -> None:
        calls.append(time.monotonic())
        if len(calls) == 1:
            raise ConnectionError("NOT_COORDINATOR")  # like the attribution thread on a broker restart
        release.wait(10)  # the second run keeps going
        stop.wait(10)

    supervisor = Supervisor(stop, max_backoff_s=1.0)
    state = ModelState("ranker")
    state.install(model, "1")
    services = Services(
        Settings(_env_file=None), Recommender(state, lambda user: []), ApiMetrics(), supervisor=supervisor
    )
    api = TestClient(create_app(services))
    supervisor.start("attribution", flaky)
    deadline = time.monotonic() + 5
    while "attribution" not in supervisor.down and time.monotonic() < deadline:
        time.sleep(0.01)
    down = api.get("/ready")
    assert down.status_code == 503 and down.json()["background"]["attribution"].startswith("down: ConnectionError")
    while len(calls) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(calls) == 2 and supervisor.restarts["attribution"] == 1
    up = api.get("/ready")
    assert up.status_code == 200 and up.json()["background"] == {"attribution": "up"}
    release.set()
    stop.set()


def test_commit_failures_that_pass_do_not_stop_a_consumer():
    from confluent_kafka import KafkaError

    from streams.kafka.runner import _passing

    assert _passing(KafkaError(KafkaError.NOT_COORDINATOR)) and _passing(KafkaError(KafkaError.REBALANCE_IN_PROGRESS))
    assert not _passing(KafkaError(KafkaError.TOPIC_AUTHORIZATION_FAILED))
